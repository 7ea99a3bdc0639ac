"""Processor plugins found through the entry-point group ``entrygate.processors``."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from entrygate.adapters.processors.registry import ProcessorPluginError, available_processors, load_processor
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.adapters.processors.stripe import StripeProcessor
from entrygate.domain.money import Money
from support import fake_stripe

SETTINGS = SimpleNamespace(processor_timeout_ms=750)


def install_plugin(site: Path, monkeypatch: pytest.MonkeyPatch, name: str, module_source: str) -> None:
    """A processor plugin as a package would install it: a dist-info with entry points, and its module."""
    dist = site / f"entrygate_{name}_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: entrygate-{name}-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[entrygate.processors]\n{name} = plugin_{name}:factory\n")
    (site / f"plugin_{name}.py").write_text(module_source)
    monkeypatch.syspath_prepend(str(site))


def test_the_shipped_plugins_are_registered():
    assert {"sandbox", "stripe"} <= set(available_processors())
    processor = load_processor("sandbox", SETTINGS)
    assert isinstance(processor, SandboxProcessor) and processor._timeout_s == 0.75


def test_a_missing_plugin_names_itself_and_the_available_ones():
    with pytest.raises(ProcessorPluginError) as caught:
        load_processor("adyen-eu", SETTINGS)
    message = str(caught.value)
    assert "'adyen-eu' is not installed" in message
    assert "available processors: " in message and "sandbox" in message and "stripe" in message


def test_a_factory_that_raises_names_the_plugin_and_the_available_ones(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, "brokenpay",
                   "def factory(settings):\n    raise RuntimeError('no merchant id configured')\n")
    with pytest.raises(ProcessorPluginError) as caught:
        load_processor("brokenpay", SETTINGS)
    message = str(caught.value)
    assert "'brokenpay' failed to start" in message and "no merchant id configured" in message
    assert "brokenpay, sandbox, stripe" in message
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_a_plugin_whose_module_does_not_import_is_named(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, "halfpay", "import entrygate_no_such_module\n")
    with pytest.raises(ProcessorPluginError, match=r"'halfpay' could not be loaded from plugin_halfpay:factory"):
        load_processor("halfpay", SETTINGS)


def test_a_plugin_without_the_whole_lifecycle_is_refused(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, "holdonly",
                   "class P:\n    def preauthorize(self, **kw): pass\n\ndef factory(settings):\n    return P()\n")
    with pytest.raises(ProcessorPluginError, match="without increment, capture, release, refund"):
        load_processor("holdonly", SETTINGS)


def test_a_working_third_party_plugin_gets_the_settings(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, "echopay",
                   "from entrygate.adapters.processors.sandbox import SandboxProcessor\n"
                   "def factory(settings):\n    return SandboxProcessor(timeout_s=settings.processor_timeout_ms)\n")
    assert load_processor("echopay", SETTINGS)._timeout_s == 750


@pytest.mark.parametrize(("settings", "complaint"), [
    (SimpleNamespace(processor_timeout_ms=2000), "ENTRYGATE_STRIPE_API_KEY is not set"),
    (SimpleNamespace(processor_timeout_ms=2000, stripe_api_key="  "), "ENTRYGATE_STRIPE_API_KEY is not set"),
    (SimpleNamespace(processor_timeout_ms=2000, stripe_api_key="pk_test_123"), "not a publishable key"),
    (SimpleNamespace(processor_timeout_ms=2000, stripe_api_key="sk_test_1", stripe_api_base="http://192.0.2.7"),
     "https://"),
])
def test_the_stripe_plugin_refuses_incomplete_settings(settings, complaint):
    with pytest.raises(ProcessorPluginError) as caught:
        load_processor("stripe", settings)
    assert "'stripe' failed to start" in str(caught.value) and complaint in str(caught.value)
    assert "sk_test_1" not in str(caught.value)


def test_the_stripe_plugin_reads_its_settings_by_attribute(stripe_api):
    settings = SimpleNamespace(processor_timeout_ms=1500, stripe_api_key=SecretStr(fake_stripe.API_KEY),
                               stripe_api_base=stripe_api.url)
    processor = load_processor("stripe", settings)
    assert isinstance(processor, StripeProcessor) and fake_stripe.API_KEY not in repr(processor)
    assert processor._timeout_s == 1.5
    result = processor.preauthorize(token="pm_card_visa", amount=Money.of("5", "USD"), idempotency_key="k")
    assert result.approved and list(stripe_api.intents) == [result.preauth_id]
