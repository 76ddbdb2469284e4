"""What a network's features hold for one digit (the explorer's look inside a teacher): the view read by hand on
a tiny network, its figures, and its sentences with their numbers."""

import subprocess
import sys

import pytest
import torch

from kdlab.ml.feature_view import block_view, feature_view
from kdlab.ml.features import attention_map
from kdlab.ml.models import build_model
from kdlab.plots import features as plots
from kdlab.ui import explorer_features as texts


def digit(seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_a_block_view_keeps_the_attention_map_and_the_most_active_channels():
    maps = torch.zeros(3, 2, 2)
    maps[0] = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # mean 0.25
    maps[1] = torch.tensor([[0.0, 0.0], [0.0, 4.0]])  # mean 1.0
    maps[2] = torch.tensor([[0.0, 2.0], [0.0, 0.0]])  # mean 0.5
    view = block_view("block1", maps, top=2)
    assert view.shape == (3, 2, 2) and view.channels == (1, 2)
    assert torch.equal(view.maps, maps[[1, 2]]) and torch.allclose(view.activity, torch.tensor([1.0, 0.5]))
    # attention by hand: squares summed over channels [[1, 4], [0, 16]], then unit L2 norm
    by_hand = torch.tensor([[1.0, 4.0], [0.0, 16.0]]) / (1 + 16 + 256) ** 0.5
    assert torch.allclose(view.attention, by_hand)
    assert view.peak == (1, 1)
    assert torch.allclose(view.shares.sum(), torch.tensor(1.0))
    assert view.brightest_share(0.25) == (1, pytest.approx(16 / 21))


def test_a_conv_networks_view_has_both_blocks_and_its_last_hidden_layer():
    model = build_model("lenet5", seed=0).eval()
    image = digit()
    view = feature_view(model, image)
    assert [block.tap for block in view.blocks] == ["block1", "block2"]
    assert [block.shape for block in view.blocks] == [(6, 14, 14), (16, 5, 5)]
    assert [len(block.channels) for block in view.blocks] == [6, 8]  # the 8 most active, or all when fewer
    with torch.no_grad():
        first = model[:3](((image.float() / 255 - 0.1307) / 0.3081)[None, None])  # (1, 6, 14, 14)
        hidden = model[:-1](((image.float() / 255 - 0.1307) / 0.3081)[None, None])[0]  # (84,)
    assert torch.allclose(view.blocks[0].attention, attention_map(first)[0].reshape(14, 14), atol=1e-5)
    assert view.hidden.size == 84 and view.hidden.active == int((hidden > 0).sum())
    assert view.hidden.strongest == int(hidden.argmax())
    assert all(not block.attention.requires_grad for block in view.blocks)


def test_the_view_reads_a_copy_and_leaves_the_shared_model_without_hooks():
    model = build_model("cnn", seed=0).eval()
    feature_view(model, digit())
    assert all(not module._forward_hooks for module in model.modules())
    assert not model.training


def test_an_mlp_has_no_blocks_and_linear_no_hidden_layer():
    mlp = feature_view(build_model("mlp-30x1", seed=0), digit())
    assert mlp.blocks == () and mlp.hidden.size == 30
    linear = feature_view(build_model("linear", seed=0), digit())
    assert linear.blocks == () and linear.hidden is None


def test_the_view_refuses_anything_but_one_uint8_digit():
    model = build_model("linear", seed=0)
    with pytest.raises(ValueError, match="one uint8 28 x 28 digit"):
        feature_view(model, digit()[None])
    with pytest.raises(ValueError, match="one uint8 28 x 28 digit"):
        feature_view(model, digit().float())


def test_a_blocks_cells_sit_on_the_digit_where_their_receptive_fields_centre():
    model = build_model("cnn-wide", seed=0)
    view = feature_view(model, digit())
    # by hand: conv 5 (no padding) shifts by 2, pooling by 2 puts cell j at 2j + 0.5 of its input
    assert [block.grid for block in view.blocks] == [(2.5, 2.0), (2.5 + 2 * 2 + 2 * 0.5, 4.0)]
    assert view.blocks[1].pixel(3) == 19.5
    lenet = feature_view(build_model("lenet5", seed=0), digit())  # padding 2 keeps block 1 on the whole digit
    assert lenet.blocks[0].grid == (0.5, 2.0) and lenet.blocks[0].pixel(13) == 26.5


def test_the_attention_figure_draws_each_map_over_the_digit_at_its_grid():
    image = digit().tolist()
    small, large = [[0.1] * 4 for _ in range(4)], [[0.2] * 12 for _ in range(12)]
    grids = [(2.5, 2.0), (7.5, 4.0)]
    figure = plots.attention_overlays(image, [large, small], grids, ["Block 1: 12 x 12", "Block 2: 4 x 4"])
    assert figure.layout.title.text
    assert len(figure.data) == 5  # the digit alone, then the digit under each map
    assert [(trace.x0, trace.dx) for trace in figure.data[2::2]] == grids
    assert figure.layout.yaxis2.scaleanchor == "x2" and list(figure.layout.yaxis2.range) == [27.5, -0.5]
    with pytest.raises(ValueError, match="as many grids and names"):
        plots.attention_overlays(image, [small], grids, ["Block 2"])


def test_the_channel_figure_has_a_panel_per_channel_each_titled():
    maps = [[[float(c)] * 3 for _ in range(3)] for c in range(3)]
    figure = plots.channel_maps([("Block 1", [7, 2, 5], maps), ("Block 2", [1], maps[:1])])
    assert len(figure.data) == 4
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles[:4] == ["Block 1, ch 7", "Block 1, ch 2", "Block 1, ch 5", "Block 2, ch 1"]
    assert all(trace.zmin == 0 for trace in figure.data)
    with pytest.raises(ValueError, match="at least one block"):
        plots.channel_maps([])


def test_the_sentences_say_the_numbers_the_charts_show():
    maps = torch.zeros(2, 3, 3)
    maps[0, 0, 2] = 3.0  # the top right
    view = block_view("block1", maps, grid=(4.5, 9.0))  # cells centred on pixels 4.5, 13.5 and 22.5
    attention = texts.attention_text((view,))
    assert (
        "peaks at row 1, column 3 of its map, around pixel row 5, column 23 of the 28 x 28 digit (the top right)"
        in attention
    )
    assert "the brightest 1 of its 9 cells hold 100% of the attention (spread evenly they would hold 11%)" in attention
    channels = texts.channels_text((view,))
    assert "Block 1's 2 most active of its 2 channels average 0.33 (channel 0) down to 0.00 (channel 1)" in channels
    hidden = feature_view(build_model("mlp-30x1", seed=0), digit()).hidden
    line = texts.hidden_text(hidden)
    assert f"has 30 units; {hidden.active} of them fire" in line and f"({hidden.active / 30:.0%})" in line
    assert [texts.region(14, 14), texts.region(27, 0), texts.region(13.5, 22.5)] == [
        "the centre",
        "the bottom left",
        "the right side",
    ]


def test_a_network_without_conv_blocks_says_why_it_has_no_maps():
    mlp = feature_view(build_model("mlp-30x1", seed=0), digit())
    assert "mlp-30x1 has no feature maps to show: it has no conv blocks." in texts.no_maps_text("mlp-30x1", mlp)
    linear = texts.no_maps_text("linear", feature_view(build_model("linear", seed=0), digit()))
    assert "no feature maps and no hidden layer" in linear and "Choose a teacher with conv blocks (cnn, " in linear
    standing_in = texts.no_maps_text("mlp-30x1", mlp, stands_in_for="cnn-wide")
    assert standing_in.endswith(
        "The teacher you chose, cnn-wide, has conv blocks: its maps show here when it is ready."
    )
    assert "Choose a teacher" in texts.no_maps_text("mlp-30x1", mlp, stands_in_for="mlp-1200x2")
    assert set(texts.conv_teachers()) >= {"cnn", "cnn-wide", "lenet5"} and "mlp-1200x2" not in texts.conv_teachers()


def test_the_feature_figures_do_not_import_streamlit():
    code = "import sys, kdlab.plots.features, kdlab.ml.feature_view; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
