"""Imported first by each command line: TensorFlow loads with native stderr sent to /dev/null, as its CUDA
probing prints lines (without an NVIDIA driver) that TF_CPP_MIN_LOG_LEVEL cannot hold back."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TF's C++ INFO lines; warnings and errors still show
if not os.path.exists("/proc/driver/nvidia"):
  _stderr, _null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
  os.dup2(_null, 2)
  try:
    import tensorflow as _tf
    _tf.config.list_physical_devices()
  finally:
    os.dup2(_stderr, 2)
    os.close(_stderr)
    os.close(_null)
