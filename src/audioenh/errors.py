"""User-facing error types.

Everything raised as :class:`AudioenhError` is a problem with the user's input
(a spec, a file, a name) and is shown by the CLI as one line, without a traceback.
"""


class AudioenhError(Exception):
    """Base class of errors that the CLI reports as a single clear line."""


class SpecError(AudioenhError, ValueError):
    """A malformed spec string or arguments a factory does not accept."""


class UnknownNameError(AudioenhError, KeyError):
    """A name that no registry entry has."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(AudioenhError):
    """Two plugins registered the same name in one registry."""


class AudioFileError(AudioenhError):
    """An audio file that cannot be read, is empty, or holds invalid samples."""


class CheckpointError(AudioenhError):
    """A checkpoint that is missing, corrupt or does not describe its model."""


class MetricUnavailableError(AudioenhError):
    """A metric that cannot run here: its weights or its optional package are missing.

    The message is one line saying how to get what is missing.
    """
