# gan_tf: every target works on a fresh clone (it makes .venv if missing).
# Variables: ARGS='--flag=value ...' (any target), EXP (make train), ROW and SEED (make reproduce), RUN and
# MODEL (a run folder, or latest: the newest under runs/), DATA_DIR (a folder of IDX .gz files). Times: 2 cores.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Data: each experiment's dataset from Debian's package folder where present, else tfds.load;
# DATA_DIR=<folder of IDX .gz files> reads that folder instead.
DATA_DIR ?=
DATA_FLAG = $(if $(DATA_DIR),--data_dir=$(DATA_DIR))
ARGS ?=
RUN ?= latest
MODEL ?= latest
SEED ?= 0

.PHONY: help install test train-mlp train-mlp-small train-dcgan train-dcgan-tutorial train tensorboard export \
	generate interpolate eval reproduce evaluator bench profile results clean
help:  ## this list
	@sed -n '2,3p' $(MAKEFILE_LIST) | sed 's/^# //'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(STAMP)  ## make .venv and install gan_tf with its pinned requirements

test: $(STAMP)  ## the test suite (no network; data tests skip where the IDX files are absent)
	$(PY) -m pytest -q -n 2 --dist loadgroup tests

train-mlp: $(STAMP)  ## the TF1 tutorial's dense GAN (minutes)
	$(PY) -m gan_tf.train --experiment=mlp $(DATA_FLAG) $(ARGS)

train-mlp-small: $(STAMP)  ## the one-hidden-layer walk-through GAN (minutes)
	$(PY) -m gan_tf.train --experiment=mlp_small $(DATA_FLAG) $(ARGS)

train-dcgan: $(STAMP)  ## the Keras Conv2D/UpSampling2D DCGAN (an hour or more)
	$(PY) -m gan_tf.train --experiment=dcgan $(DATA_FLAG) $(ARGS)

train-dcgan-tutorial: $(STAMP)  ## the TensorFlow DCGAN tutorial's model (an hour or more)
	$(PY) -m gan_tf.train --experiment=dcgan_tutorial $(DATA_FLAG) $(ARGS)

train: $(STAMP)  ## any experiment: make train EXP=mlp_small ARGS='...'
	@test -n "$(EXP)" || { echo "error: make train needs EXP=<experiment>: mlp, mlp_small, dcgan, dcgan_tutorial" >&2; exit 2; }
	$(PY) -m gan_tf.train --experiment=$(EXP) $(DATA_FLAG) $(ARGS)

tensorboard: $(STAMP)  ## serve runs/ (all runs side by side) on http://localhost:6006 [ARGS=--bind_all]
	$(PY) -m tensorboard.main --logdir runs --port 6006 $(ARGS)

export: $(STAMP)  ## SavedModel of a run's generator: make export [RUN=runs/mlp-...|latest] [ARGS='--out=DIR']
	$(PY) -m gan_tf.export --run=$(RUN) $(ARGS)

generate: $(STAMP)  ## PNG grid from a SavedModel or run: make generate [MODEL=runs/mlp-...|latest] [ARGS='--n=64 --label=3']
	$(PY) -m gan_tf.generate --model=$(MODEL) $(ARGS)

interpolate: $(STAMP)  ## a latent walk of a run as PNG + GIF: make interpolate [RUN=...|latest] [ARGS='--seeds=0,1,2,3']
	$(PY) -m gan_tf.interpolate --run=$(RUN) $(ARGS)

reproduce: $(STAMP)  ## train one seed of a RESULTS row as its command does, then judge it: make reproduce ROW=mlp-fashion-50-default [SEED=0] (dense rows minutes; conv and Stacked MNIST rows 15-70 min)
	@test -n "$(ROW)" || { echo "error: make reproduce needs ROW=<a RESULTS row, e.g. mlp-fashion-50-default>" >&2; exit 2; }
	$(PY) -m tools.reproduce --row=$(ROW) --row_seed=$(SEED) --run=runs/reproduce/$(ROW)-seed$(SEED) $(ARGS)

eval: $(STAMP)  ## sample quality and whether it reproduces its RESULTS row: make eval [RUN=runs/mlp-...|latest] [ARGS='--nearest']
	$(PY) -m tools.reproduce --run=$(RUN) $(ARGS)

evaluator: $(STAMP)  ## rebuild a shipped evaluator in gan_tf/evaluators/ (minutes): ARGS='--dataset=mnist' DATA_DIR=<IDX folder>
	$(PY) -m tools.ship_evaluator $(DATA_FLAG) $(ARGS)

bench: $(STAMP)  ## training speed vs the plain tf.function loop -> runs/bench/ (minutes)
	$(PY) -m tools.bench $(DATA_FLAG) --out=runs/bench $(ARGS)

profile: $(STAMP)  ## where the dense default steps' time goes: ablations + a trace -> runs/profile/ (minutes)
	$(PY) -m tools.profile $(DATA_FLAG) --out=runs/profile $(ARGS)

clean:  ## remove .venv (runs/ is kept)
	rm -rf $(VENV)

results: $(STAMP)  ## train and score every RESULTS.md row (hours; reuses finished rows): ARGS='--rows=ID,...'
	$(PY) -m tools.results $(ARGS)
