"""Fixtures the AppTest modules share."""

import pytest
import torch

from kdlab.ui.resources import leave_a_core_to_the_server


@pytest.fixture(scope="module")
def training_threads_as_in_the_app():
    """app.py leaves a core to the web server; pages tested alone skip app.py, so do it here (torch's threads
    for the module's tests, put back after)."""
    threads = torch.get_num_threads()
    leave_a_core_to_the_server()
    yield
    torch.set_num_threads(threads)
