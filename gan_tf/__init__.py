"""gan_tf: the classic GANs of the introductory literature, reproduced in TensorFlow 2 / Keras 3."""
