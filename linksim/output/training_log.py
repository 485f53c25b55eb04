"""Training progress as the command line shows it: lines, the step in progress, each checkpoint's loss figure."""
import os

__all__ = ["TrainingLog"]


class TrainingLog:
    """Training progress on a stream (the ``progress`` of :class:`linksim.run.training.Trainer`):
    finished lines as they come, the step in progress overwritten in place on a terminal, and each
    checkpoint's ``loss.png`` (:func:`linksim.output.plot.plot_training_state`). ``stream=None``
    prints nothing and still draws the figures."""

    def __init__(self, stream=None):
        self.stream = stream
        self.tty = stream is not None and getattr(stream, "isatty", lambda: False)()

    def _write(self, text):
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()

    def line(self, text):
        self._write(("\r" if self.tty else "") + text + "\n")

    def step(self, text):
        if self.tty:
            self._write("\r" + text)

    def saved(self, state, folder):
        from linksim.output.plot import plot_training_state

        plot_training_state(state, os.path.join(folder, "loss.png"))
