# Geostationary satellite in rain fade: the same link at 3 % loss and half
# the rate.
name=wet-geo base=geo-satellite loss=3% rate=10mbit queue=300ms
description='geo-satellite in rain fade: 600 ms, 3 % loss, 10 Mbit/s'
