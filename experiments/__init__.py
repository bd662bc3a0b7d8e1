"""One module per reproduction; each get_config() returns a gan_tf.config.Config."""
