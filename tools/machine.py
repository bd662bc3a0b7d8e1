"""The machine a figure was measured on: what speed figures depend on, as a record and as one line."""
import os
import platform

import keras
import tensorflow as tf

from gan_tf.execution import cpuinfo_text


def native_low_precision(cpuinfo=None):
  """Which 16-bit matmuls this CPU runs natively (oneDNN emulates the others, slowly)."""
  cpu_flags = set((cpuinfo_text() if cpuinfo is None else cpuinfo).split())
  return {"bfloat16": bool(cpu_flags & {"avx512_bf16", "amx_bf16"}),
          "float16": bool(cpu_flags & {"avx512_fp16", "amx_fp16"})}


def machine():
  """What speed figures depend on: versions, CPU count and model, and its vector and 16-bit units."""
  cpuinfo = cpuinfo_text()
  model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                if line.startswith("model name")), "") or platform.processor() or platform.machine()
  return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
          "cpus": os.cpu_count(), "cpu": model, "avx512": "avx512f" in cpuinfo.split(),
          "native": native_low_precision(cpuinfo)}


def describe(m):
  """One line for a machine() dict: CPU count and model, then its vector and bf16 units by CPU flag."""
  units = ["avx512f" if m.get("avx512") else "no avx512f",
           "native bf16" if m.get("native", {}).get("bfloat16") else "no bf16 units"]
  return ", ".join([f"{m['cpus']} CPUs", m["cpu"]] + units)
