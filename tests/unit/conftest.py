"""Unit tests run with sockets disabled: nothing here may reach a network, not even moto."""

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_sockets():
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
