"""`python -m gan_tf` is `python -m gan_tf.train`."""
from gan_tf import train

train.cli(train.main)
