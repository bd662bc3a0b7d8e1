"""tools/bench.py: the FLOP rule against written-out arithmetic, the plain loop and the fit timer run the
same algorithm, and the table says what the numbers say. No speed is asserted here (make bench)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import smoke
from gan_tf.configs import get_config
from gan_tf import models
from tools import bench, machine
from gan_tf.gan import build_gan


# Forward FLOPs per image, by hand: 2 x multiply-adds of each Dense / Conv layer.
MLP_G = 2 * (100 * 256 + 256 * 512 + 512 * 784)                           # 1,116,160
MLP_D = 2 * (784 * 256 + 256 * 128 + 128 * 1)                             # 467,200
TUTORIAL_G = 2 * (100 * 7 * 7 * 256             # Dense to 7x7x256
                  + 5 * 5 * 256 * 128 * 7 * 7   # Conv2DTranspose 256->128, stride 1, 7x7 inputs
                  + 5 * 5 * 128 * 64 * 7 * 7    # Conv2DTranspose 128->64, stride 2, 7x7 inputs
                  + 5 * 5 * 64 * 1 * 14 * 14)   # Conv2DTranspose 64->1, stride 2, 14x14 inputs
TUTORIAL_D = 2 * (5 * 5 * 1 * 64 * 14 * 14      # Conv2D 1->64, stride 2, 14x14 outputs
                  + 5 * 5 * 64 * 128 * 7 * 7    # Conv2D 64->128, stride 2, 7x7 outputs
                  + 7 * 7 * 128 * 1)            # Dense to the logit


@pytest.mark.parametrize("name,f_g,f_d", [("mlp", MLP_G, MLP_D),
                                          ("dcgan_tutorial", TUTORIAL_G, TUTORIAL_D)])
def test_forward_flops_match_the_written_out_arithmetic(name, f_g, f_d):
  generator, discriminator = models.build_models(get_config(name))
  assert bench.forward_flops(generator) == f_g
  assert bench.forward_flops(discriminator) == f_d


def test_step_flops_follow_the_rule_with_and_without_the_gradient_penalty():
  generator, discriminator = models.build_models(get_config("mlp"))
  assert bench.step_flops_per_image(generator, discriminator, 1) == 4 * MLP_G + 8 * MLP_D
  assert (bench.step_flops_per_image(generator, discriminator, 5, gradient_penalty=True)
          == 5 * (MLP_G + 10 * MLP_D) + 3 * MLP_G + 2 * MLP_D)   # 33.3 MFLOP: mlp at k = 5
  assert (bench.step_flops_per_image(generator, discriminator, 1, gradient_penalty=True, g_steps=3)
          == (MLP_G + 10 * MLP_D) + 3 * (3 * MLP_G + 2 * MLP_D))


STABILISED = {"label_smoothing": 0.1, "r1_weight": 1.0, "g_ema": 0.99}   # as dcgan's defaults, and R1


@pytest.mark.parametrize("loss,d_steps,extra", [("non_saturating", 1, {}), ("wasserstein_gp", 2, {}),
                                                ("non_saturating", 1, STABILISED),
                                                ("wasserstein_gp", 1, {"g_steps": 2, "g_ema": 0.99})])
def test_plain_loop_runs_the_same_algorithm_as_fit(loss, d_steps, extra):
  """Two steps of the plain loop and of GAN.fit, from the same weights, data and noise, end at the same
  weights: the speed comparison times one algorithm two ways."""
  config = smoke(loss=loss, d_steps=d_steps, d_learning_rate=1e-2, g_learning_rate=1e-2, **extra)
  gan, plain = build_gan(config), build_gan(config)
  for name in ("generator", "discriminator", "g_average"):
    if getattr(gan, name) is not None:
      getattr(plain, name).set_weights(getattr(gan, name).get_weights())
  seed = keras.random.SeedGenerator(0)
  seed.state.assign(gan.seed_generator.state.value)
  step = bench.plain_train_step(config, plain.generator, plain.discriminator, plain.d_optimizer,
                                plain.g_optimizer, plain.g_average, seed)
  batches = [tf.constant(np.random.default_rng(i).uniform(-1, 1, (16 * d_steps, 28, 28, 1)), tf.float32)
             for i in range(2)]
  start = [w.copy() for w in gan.generator.get_weights()]
  gan.fit(tf.data.Dataset.from_tensor_slices(tf.stack(batches)), epochs=1, verbose=0)
  for batch in batches:
    step(batch)
  for name in ("generator", "discriminator", "g_average"):
    if getattr(gan, name) is not None:
      for a, b in zip(getattr(gan, name).weights, getattr(plain, name).weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
  assert max(np.abs(a - b.numpy()).max() for a, b in zip(start, gan.generator.weights)) > 1e-3


def test_both_timers_time_their_windows():
  config = smoke(steps_per_execution=2)
  images = np.random.default_rng(0).integers(0, 256, (256, 28, 28, 1), dtype=np.uint8)
  for timer in (bench.time_plain_loop, bench.time_fit):
    windows = timer(config, images, 2, 2, 2)
    assert len(windows) == 2 and min(windows) > 0


def test_markdown_reports_the_ratios_and_the_ceiling():
  row = lambda ips, of_peak: {"images_per_s": ips, "step_ms": 1.0, "vs_plain_loop": ips / 1000,
                               "gflops": 50.0, "of_fp32_peak": of_peak}
  result = {"machine": {"tensorflow": "2.x", "keras": "3.x", "cpus": 2, "cpu": "Test CPU",
                        "avx512": False, "native": {"bfloat16": False, "float16": False}},
            "peak_gflops": {"float32": 100.0, "bfloat16": 20.0},
            "experiments": {"mlp": {"batch_size": 128, "loss": "wasserstein_gp", "d_steps": 5,
                                    "mflops_per_image_step": 33.3, "input_images_per_s": 40000.0,
                                    "rows": {"plain loop": row(1000, 0.25), "default": row(2000, 0.5)}}},
            "first_step": {"experiment": "mlp", "seconds": 11.0, "steps": 93}}
  table = bench.markdown(result)
  assert "| mlp (128, wasserstein_gp, 5) | default | 2,000 | 1.00 | 2.00x | 50.0 | 50% |" in table
  assert "| mlp | 33.3 | 4.0x | 40,000 | 20x |" in table   # ceiling 1 / 25%; input 40k / 2k
  assert "first execution of 93 train steps ends 11.0 s" in table
  assert "native bf16: no" in table
  assert "Keras 3.x, 2 CPUs, Test CPU, no avx512f, no bf16 units;" in table


def test_machine_names_the_cpu_and_the_units_its_speed_depends_on():
  cpuinfo = "model name\t: AMD EPYC\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n"
  assert machine.native_low_precision(cpuinfo) == {"bfloat16": True, "float16": False}
  assert machine.native_low_precision("flags : fpu avx2") == {"bfloat16": False, "float16": False}
  m = {"cpus": 2, "cpu": "AMD EPYC", "avx512": True, "native": {"bfloat16": True, "float16": False}}
  assert machine.describe(m) == "2 CPUs, AMD EPYC, avx512f, native bf16"
  here = machine.machine()   # this machine: whatever it is, the fields the line needs are there
  assert here["cpus"] >= 1 and here["cpu"] and isinstance(here["avx512"], bool)
