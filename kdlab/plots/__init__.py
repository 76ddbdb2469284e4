"""Plotly figures as pure functions: one module per family (lab, board, replays, schemes, ensembles,
compression, drawing, features).

May import every library layer below it; never Streamlit."""
