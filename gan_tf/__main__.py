"""`python -m gan_tf` is `python -m gan_tf.train`."""
from gan_tf import train
from gan_tf.errors import run_main

train.define_flags()
run_main(train.main)
