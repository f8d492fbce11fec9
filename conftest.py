"""Loaded by pytest for every run under this folder: `pytest tests` and `pytest --nbmake notebooks`.

nbclient (nbmake, and `tests/test_exercises.py`) waits for a cell's execute_reply with one long
`await socket.poll(timeout)` on the shell channel while a second task reads IOPub on the same
event loop. Now and then that poll misses the wake-up of a reply that has arrived and sleeps out
the whole cell limit (jupyter/nbclient#312): notebook 06 then sat idle for 240 s after its step
scrubber (cell 33) in four of five runs, and passed. Polling in slices of at most half a second,
each followed by a non-blocking check (a plain zmq poll, which does not depend on the missed
wake-up), takes the reply within half a second of its arrival; the overall timeout is kept.
"""

from __future__ import annotations

import time

from jupyter_client.channels import AsyncZMQSocketChannel

SLICE_S = 0.5  # longest single wait; a missed wake-up costs at most this much


async def _get_msg_sliced(self, timeout: float | None = None):
    """AsyncZMQSocketChannel.get_msg, the same contract (a message, or queue.Empty after
    `timeout` seconds; None waits for ever), polled in slices."""
    from queue import Empty

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        wait = SLICE_S if left is None else max(0.0, min(SLICE_S, left))
        if await self.socket.poll(int(wait * 1000)) or await self.socket.poll(0):
            return await self._recv()
        if left is not None and left <= SLICE_S:
            raise Empty


AsyncZMQSocketChannel.get_msg = _get_msg_sliced
