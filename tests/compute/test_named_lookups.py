"""Name-based lookups that let fixture `checks` pin whole-network figures."""

import pytest

from compute.params import NAMED_NETWORKS, named_network_params, network_params
from compute.receptive import NAMED_STACKS, named_stack_fields, receptive_fields


@pytest.mark.parametrize("name", sorted(NAMED_NETWORKS))
def test_named_network_params_is_the_spec_total(name: str) -> None:
    assert named_network_params(name) == network_params(NAMED_NETWORKS[name])


def test_named_network_params_matches_torchvision_figures() -> None:
    assert named_network_params("vgg16") == 138_357_544
    assert named_network_params("alexnet") == 61_100_840


@pytest.mark.parametrize("name", sorted(NAMED_STACKS))
def test_named_stack_fields_is_receptive_fields_of_the_stack(name: str) -> None:
    assert named_stack_fields(name, 224) == receptive_fields(NAMED_STACKS[name], 224)


@pytest.mark.parametrize("lookup", [named_network_params, named_stack_fields])
def test_unknown_names_are_refused_with_the_choices(lookup: object) -> None:
    with pytest.raises(ValueError, match="name must be one of"):
        lookup("resnet9000")  # type: ignore[operator]
