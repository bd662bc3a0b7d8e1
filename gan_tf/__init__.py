"""gan_tf: the classic GANs of the introductory literature, reproduced in TensorFlow 2 / Keras 3."""
import contextlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TF's C++ INFO lines; warnings and errors still show


@contextlib.contextmanager
def _quiet_native_stderr():
  """Sends what C++ writes to stderr to /dev/null for the block; Python errors raised in it still show."""
  saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
  os.dup2(null, 2)
  try:
    yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)
    os.close(null)


# Without an NVIDIA driver, TF's CUDA probing prints lines that TF_CPP_MIN_LOG_LEVEL cannot hold back
# (they come before its logging starts): probe once, here, where nothing else is said.
if not os.path.exists("/proc/driver/nvidia"):
  with _quiet_native_stderr():
    import tensorflow as tf
    tf.config.list_physical_devices()
