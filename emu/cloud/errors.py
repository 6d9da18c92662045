"""The error raised when the cloud model is configured wrongly.

Only the control plane raises it: a scenario or a test that creates a job twice, asks for a job
that does not exist, or gives a stream file an id outside 0..255. Requests that arrive over MQTT
never raise; they are answered on a ``rejected`` topic as the AWS services answer them.
"""

from emu.errors import InputError


class CloudError(InputError):
    """A control-plane call on the cloud model is inconsistent (duplicate or unknown id)."""
