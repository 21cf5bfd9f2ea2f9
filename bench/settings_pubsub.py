"""Bench-only experiment: the app's settings with channels_redis' pub/sub layer instead of the list layer.

Not used by the app. `bench/run.py --layer pubsub` serves with it to measure what the channel
layer costs: the pub/sub layer publishes a group message once per process and fans it out to the
process's sockets through in-memory queues; gaps it may leave are repaired from the event log.
"""

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]},
    }
}
