"""`entrygate keys rotate --purpose palm` interrupted for real: the process gets SIGINT (Ctrl-C) in the
middle of the re-encryption, keeps what it committed, and the next run finishes it to the same key.
SQLite and PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import numpy as np
from sqlalchemy import func, select
from typer.testing import CliRunner

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.secret_keys import SqlSecretKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.palm_keys import KeyedTemplateCipher
from entrygate.cli.main import app
from entrygate.domain.cards import instrument_id
from entrygate.services.ports.palm import Enrollment
from support.contracts import retailer
from support.factories import NOW, card
from support.server import TEST_SECRET, entrygate_exe

COUNT = 3000


def _under(engine, key_id: str) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.palm_enrollments)
                            .where(t.palm_enrollments.c.template_key_id == key_id)).scalar_one()


def test_a_palm_rotation_interrupted_by_ctrl_c_is_finished_by_the_next_run(db_url):
    engine = make_engine(db_url, pool_size=4)
    uow = SqlUnitOfWorkFactory(engine)
    ring = KeyRing(SqlSecretKeys(uow), TEST_SECRET.encode(), clock=FixedClock(NOW))
    cipher, store, owner = KeyedTemplateCipher(ring), SqlPalmStore(uow), retailer(uow)
    vectors = np.random.default_rng(5).standard_normal((COUNT, 16)).astype(np.float32)
    with store.enrolling() as session:  # one transaction: a few thousand enrollments in a moment
        for i, vec in enumerate(vectors):
            c = card(par=f"VTST{i:025d}")
            session.add(Enrollment(f"palm_{i:05d}", instrument_id(c, secret=TEST_SECRET.encode()), owner,
                                   cipher.encrypt_vector(vec, palm_id=f"palm_{i:05d}"), 16, c, NOW))
    env = {**os.environ, "ENTRYGATE_DATABASE_URL": db_url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
           "ENTRYGATE_LOG_LEVEL": "WARNING", "ENTRYGATE_KEY_REFRESH_S": "0.2"}
    proc = subprocess.Popen([*entrygate_exe(), "keys", "rotate", "--purpose", "palm", "--page-size", "5"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        new_key = None
        while new_key is None or _under(engine, new_key) < 50:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
            with engine.connect() as conn:
                new_key = conn.execute(select(t.secret_keys.c.key_id).where(
                    t.secret_keys.c.purpose == "palm", t.secret_keys.c.retired_at.is_(None))).scalar_one()
                new_key = None if new_key == "palm-0" else new_key
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "run the command again" in err and "key id:" not in out
    done = _under(engine, new_key)
    assert 0 < done < COUNT  # interrupted in the middle, what was committed kept

    finished = CliRunner().invoke(app, ["keys", "rotate", "--purpose", "palm"],
                                  env={k: env[k] for k in ("ENTRYGATE_DATABASE_URL", "ENTRYGATE_SECRET_KEY",
                                                           "ENTRYGATE_KEY_REFRESH_S")})
    assert finished.exit_code == 0, finished.output
    assert finished.stdout.strip().splitlines()[-2:] == [f"re-encrypted: {COUNT} of {COUNT}", f"key id: {new_key}"]
    assert _under(engine, new_key) == COUNT
    for sealed in store.templates(after=None, limit=COUNT):
        i = int(sealed.palm_id.removeprefix("palm_"))
        assert np.array_equal(cipher.decrypt_vector(sealed.template, palm_id=sealed.palm_id), vectors[i])
    engine.dispose()
