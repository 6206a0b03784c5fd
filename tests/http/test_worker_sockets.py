"""`--workers N`: one listening socket per worker on one port (SO_REUSEPORT), so the kernel
spreads connections over the workers instead of letting the first one awake take a burst."""

from __future__ import annotations

import socket

import pytest

from gateway.serve import StartError, StartOptions, listen_workers


def _options(port: int) -> StartOptions:
    return StartOptions(
        config=None,
        host="127.0.0.1",
        port=port,
        supergraph=None,
        subgraphs=(),
        subgraph_urls=(),
        registry=None,
        dev_auth=False,
        deduplicate=None,
        log_level="warning",
        tune_gc=False,
        metrics=False,
    )


def test_each_worker_gets_its_own_socket_on_one_port() -> None:
    sockets = listen_workers(_options(0), 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(sockets) == 3 and len(ports) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        # the kernel hands connections to the group's sockets: 64 connections reach more than one
        port = ports.pop()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        accepted = []
        for server in sockets:
            server.setblocking(False)
            count = 0
            while True:
                try:
                    conn, _ = server.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        for client in clients:
            client.close()
        assert sum(accepted) == 64
        assert sum(1 for n in accepted if n) >= 2, accepted
    finally:
        for s in sockets:
            s.close()


def test_a_port_taken_by_another_socket_is_a_clear_start_error() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(StartError, match=r"cannot listen on 127\.0\.0\.1"):
            listen_workers(_options(taken.getsockname()[1]), 2)
    finally:
        taken.close()
