"""Writing files so that a crash, a full disk or a kill never leaves a half-written one in place."""
import contextlib
import os
import shutil
import tempfile

from gan_tf.errors import UserError


class WriteError(UserError, OSError):
  """A file or folder could not be written; the previous version, if any, is intact."""


def atomic_write(path, data):
  """Writes bytes to path via a temporary file in the same folder and an atomic rename."""
  folder = os.path.dirname(os.path.abspath(path))
  tmp = None
  try:
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-" + os.path.basename(path))
    os.fchmod(fd, 0o666 & ~_umask())   # mkstemp's 0600 would make every result private to its writer
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except OSError as e:
    if tmp and os.path.exists(tmp):
      os.remove(tmp)
    raise WriteError(f"cannot write {path}: {e.strerror or e}") from e


def _umask():
  """The process's umask (os.umask can only be read by setting it)."""
  mask = os.umask(0o22)
  os.umask(mask)
  return mask


@contextlib.contextmanager
def atomic_dir(path):
  """Yields a temporary folder beside path; on success it replaces path whole, on failure it is removed."""
  parent = os.path.dirname(os.path.abspath(path))
  try:
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-" + os.path.basename(path))
    os.chmod(tmp, 0o777 & ~_umask())   # mkdtemp's 0700 would hide an export from a server run as another user
  except OSError as e:
    raise WriteError(f"cannot write {path}: {e.strerror or e}") from e
  try:
    yield tmp
    old = None
    if os.path.exists(path):
      old = tempfile.mkdtemp(dir=parent, prefix=".old-" + os.path.basename(path))
      os.replace(path, os.path.join(old, "x"))
    os.replace(tmp, path)
    if old:
      shutil.rmtree(old, ignore_errors=True)
  except OSError as e:
    raise WriteError(f"cannot write {path}: {e.strerror or e}") from e
  finally:
    if os.path.exists(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
