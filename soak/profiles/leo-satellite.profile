# Low-earth-orbit satellite: short round trip, handovers every 15 s show up
# as a brief outage; lossy.
name=leo-satellite
description='LEO satellite: 40 ms, 0.5 % loss, 100 Mbit/s down, 20 Mbit/s up, a 1 s gap every 15 s'
rtt=40ms jitter=10ms jitter_period=300ms loss=0.5%
hub_to_edge.rate=100mbit edge_to_hub.rate=20mbit queue=50ms
outage_every=15s outage_duration=1s outage_first=15s
