"""``streamlit run app.py`` with the replays' quick budget shrunk to one epoch each, so that a browser test can
press a replay's Run and read its result in seconds (the accessibility tour). Everything else, the replay's code
path included, is the real one: the page builds the replay's config from ``BUDGETS`` in this process and hands
it to the worker. Takes ``streamlit run``'s arguments:

    python tests/browser/tiny_replays_server.py run app.py --server.port 8600
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # a spawned training worker imports this file again: it must do nothing there
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from streamlit.web import cli

    from kdlab.experiments.replays import config

    config.BUDGETS["quick"] = config.Budget(
        "quick", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200
    )
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())
