"""The batch split among devices: JAX's ``shard_map`` on two simulated CPU devices (a new
process, since the device count is fixed when JAX starts) gives one device's loss and
gradients."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from xrnn import charmodel, distributed

assert len(jax.devices()) == 2, jax.devices()
model = charmodel.Model("{cell}", layers=2, hidden=5, vocab=6)
rng = np.random.default_rng(0)
x = np.eye(6)[rng.integers(0, 6, (8, 7))].transpose(2, 0, 1)
targets = rng.integers(0, 6, (8, 7))
lengths = np.array([7, 2, 6, 1, 7, 5, 3, 4])
params = model.init(seed=0)
loss, grads = charmodel.loss_and_grads(model, params, x, targets, lengths.tolist())
f = distributed.sharded_loss_and_grads(model, jax.make_mesh((2,), ("batch",)))
on = [jnp.asarray(a) for a in (x, targets, lengths)]
got_loss, got = f({{k: jnp.asarray(v) for k, v in params.items()}}, *on)
assert set(got) == set(grads)
assert abs(float(got_loss) - float(loss)) < 1e-12, (float(got_loss), float(loss))
for k, g in grads.items():
    np.testing.assert_allclose(np.asarray(got[k]), g, rtol=1e-12, atol=1e-14, err_msg=k)
print("ok")
"""


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_jax_data_parallel_step_on_two_devices_is_one_devices(cell):
    pytest.importorskip("jax", reason="jax is not installed")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(cell=cell)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]
