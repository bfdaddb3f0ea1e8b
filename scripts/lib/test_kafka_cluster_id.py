"""Unit tests of the cluster id helper (CTest: scripts_lib_unit)."""
import base64
import unittest

from kafka_cluster_id import encode, new_cluster_id


class ClusterIdTest(unittest.TestCase):
    def test_ids_are_22_urlsafe_chars_that_decode_to_16_bytes(self):
        for _ in range(2000):
            cid = new_cluster_id()
            self.assertEqual(len(cid), 22, cid)
            self.assertEqual(len(base64.urlsafe_b64decode(cid + "==")), 16, cid)

    def test_an_id_that_would_start_with_a_dash_is_redrawn(self):
        # 0xf8 -> first sextet 62 -> '-' in urlsafe base64.
        dash_first = bytes([0xF8]) + bytes(15)
        self.assertTrue(encode(dash_first).startswith("-"))
        draws = iter([dash_first, dash_first, bytes(16)])
        cid = new_cluster_id(lambda: next(draws))
        self.assertEqual(cid, encode(bytes(16)))
        self.assertFalse(cid.startswith("-"))

    def test_many_ids_never_start_with_a_dash(self):
        # 1 in 64 raw draws starts with '-': 20,000 ids would show ~300.
        self.assertFalse(any(new_cluster_id().startswith("-") for _ in range(20000)))

    def test_wrong_length_is_refused(self):
        with self.assertRaises(ValueError):
            encode(bytes(15))


if __name__ == "__main__":
    unittest.main()
