"""Wall-clock time, device-hours and cost of a training budget on real accelerators.

The time to spend C FLOPs on ``devices`` accelerators with dense peak P (FLOP/s per device)
at model FLOPs utilisation ``mfu`` (Chowdhery et al. 2022, PaLM §4.1: the fraction of peak that
the model's own FLOPs achieve) is

    t = C / (devices x P x mfu),  device-hours = devices x t / 3600,  cost = device-hours x price.

Peaks are the vendors' dense (no structured sparsity) BF16 tensor throughputs; a user overrides
them with ``peak=`` (``--peak``).  No prices are built in: they vary by provider and contract,
so a cost is computed only when a price per device-hour is given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from scalinglaws.errors import QuantityError, UnknownNameError, did_you_mean
from scalinglaws.units import PF_DAY, parse_count, parse_fraction, parse_price, parse_quantity

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_HOUR = 3_600.0


@dataclass(frozen=True)
class Accelerator:
    """One accelerator: its dense BF16 peak in FLOP/s per device and where that number is from."""

    name: str
    peak_flops: float
    description: str
    source: str


#: Dense BF16 peaks (FLOP/s per device).  Vendors often print twice these "with sparsity".
ACCELERATORS: dict[str, Accelerator] = {
    a.name: a
    for a in (
        Accelerator(
            "a100",
            312e12,
            "NVIDIA A100 (SXM or PCIe, 40/80 GB)",
            "NVIDIA A100 datasheet: BF16 tensor core 312 TFLOPS dense (624 with sparsity)",
        ),
        Accelerator(
            "h100",
            989e12,
            "NVIDIA H100 SXM5 80 GB",
            "NVIDIA H100 datasheet: BF16 tensor core 1,979 TFLOPS with sparsity, 989 dense",
        ),
        Accelerator(
            "h200",
            989e12,
            "NVIDIA H200 SXM 141 GB (same compute die as H100 SXM)",
            "NVIDIA H200 datasheet: BF16 tensor core 1,979 TFLOPS with sparsity, 989 dense",
        ),
        Accelerator(
            "b200",
            2.25e15,
            "NVIDIA B200 (HGX B200, 1000 W)",
            "NVIDIA HGX B200 datasheet: 4.5 PFLOPS BF16 with sparsity per GPU, 2.25 dense",
        ),
        Accelerator(
            "tpu-v4",
            275e12,
            "Google Cloud TPU v4 chip",
            "Google Cloud TPU v4 documentation: 275 TFLOPS peak BF16 per chip",
        ),
        Accelerator(
            "tpu-v5p",
            459e12,
            "Google Cloud TPU v5p chip",
            "Google Cloud TPU v5p documentation: 459 TFLOPS peak BF16 per chip",
        ),
        Accelerator(
            "mi300x",
            1307e12,
            "AMD Instinct MI300X",
            "AMD MI300X datasheet: 1,307.4 TFLOPS peak BF16 dense (2,614.9 with sparsity)",
        ),
    )
}

_ALIASES: dict[str, str] = {
    "h100-sxm": "h100",
    "h100-sxm5": "h100",
    "a100-sxm": "a100",
    "a100-80gb": "a100",
    "a100-40gb": "a100",
    "v4": "tpu-v4",
    "tpuv4": "tpu-v4",
    "v5p": "tpu-v5p",
    "tpuv5p": "tpu-v5p",
    "mi300": "mi300x",
}


def get_accelerator(name: str) -> Accelerator:
    """Look up an accelerator by name (case-insensitive; ``"H100"``, ``"tpu_v4"``, ``"v5p"``).

    Raises :class:`UnknownNameError`: "unknown accelerator 'h10'; did you mean 'h100'?".
    """
    if isinstance(name, Accelerator):
        return name
    key = re.sub(r"[\s_]+", "-", str(name).strip().lower())
    key = _ALIASES.get(key, key)
    if key in ACCELERATORS:
        return ACCELERATORS[key]
    names = tuple(ACCELERATORS)
    hint = did_you_mean(str(name), names)
    if not hint.startswith("; did"):
        hint = (
            f"; valid names are {', '.join(names)} (or give the peak FLOP/s per device, e.g. "
            "peak=989e12)."
        )
    raise UnknownNameError(f"unknown accelerator {str(name)!r}{hint}", argument="accelerator")


@dataclass(frozen=True)
class Budget:
    """Time and cost of spending ``flops`` on a cluster; every field in plain units.

    ``seconds = flops / (devices x peak_flops x mfu)``; ``cost`` is None without a price.
    """

    flops: float
    pf_days: float
    accelerator: str | None
    peak_flops: float
    mfu: float
    devices: int
    effective_flops_per_second: float
    seconds: float
    days: float
    device_hours: float
    price_per_hour: float | None
    cost: float | None

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, for JSON output."""
        return dict(self.__dict__)


def _resolve_peak(accelerator: str | Accelerator | None, peak: Any) -> tuple[str | None, float]:
    name = None
    value = None
    if accelerator is not None:
        acc = get_accelerator(accelerator)  # type: ignore[arg-type]
        name, value = acc.name, acc.peak_flops
    if peak is not None:
        value = parse_quantity(peak, "peak")
        if name is not None:
            name = f"{name} (peak overridden)"
    if value is None:
        raise QuantityError(
            f"no accelerator peak given; name an accelerator (e.g. accelerator='h100'; valid "
            f"names are {', '.join(ACCELERATORS)}) or give the peak FLOP/s per device (e.g. "
            "peak=989e12).",
            argument="accelerator",
        )
    return name, value


def _check_results(results: dict[str, float | None]) -> None:
    """Refuse a result that overflows (or underflows to 0) float64: one sentence naming it."""
    for what, value in results.items():
        if value is not None and not (math.isfinite(value) and value > 0):
            how = "overflows" if value != 0 else "underflows to 0 in"
            raise QuantityError(
                f"the {what} of these inputs {how} the range of floating-point numbers; give "
                "a compute, device count, peak, MFU and price of realistic size."
            )


def training_seconds(flops: Any, peak_flops: Any, mfu: Any, devices: Any = 1) -> Any:
    """Wall-clock seconds to spend ``flops``: t = C / (devices x peak x MFU).  Works on arrays."""
    return flops / (devices * peak_flops * mfu)


def estimate_budget(
    flops: float | str,
    accelerator: str | Accelerator | None = None,
    *,
    peak: float | str | None = None,
    mfu: float | str = 0.4,
    devices: int | str = 1,
    price_per_hour: float | str | None = None,
) -> Budget:
    """Wall-clock days, device-hours, PF-days and cost of a training run of ``flops`` FLOPs.

    t = C / (devices x peak x MFU) (MFU as defined by Chowdhery et al. 2022); device-hours =
    devices x t / 3600; cost = device-hours x ``price_per_hour`` (per device); PF-days =
    C / 8.64e19 (Kaplan et al. 2020).  ``peak`` overrides the accelerator's table value.
    Raises :class:`QuantityError` for a non-positive budget, an MFU outside (0, 1], a
    non-positive device count or price, and :class:`UnknownNameError` for an unknown name.
    """
    C = parse_quantity(flops, "flops")
    name, peak_value = _resolve_peak(accelerator, peak)
    u = parse_fraction(mfu, "mfu")
    n = parse_count(devices, "devices")
    price = None if price_per_hour is None else parse_price(price_per_hour, "price_per_hour")
    rate = n * peak_value * u
    seconds = C / rate
    device_hours = n * seconds / SECONDS_PER_HOUR
    cost = None if price is None else device_hours * price
    if not math.isfinite(seconds):
        raise QuantityError(
            f"flops={C:g} gives a non-finite training time; check the inputs.", argument="flops"
        )
    _check_results(
        {
            "cluster throughput": rate,
            "training time": seconds,
            "device-hours": device_hours,
            "cost": cost,
        }
    )
    return Budget(
        flops=C,
        pf_days=C / PF_DAY,
        accelerator=name,
        peak_flops=peak_value,
        mfu=u,
        devices=n,
        effective_flops_per_second=rate,
        seconds=seconds,
        days=seconds / SECONDS_PER_DAY,
        device_hours=device_hours,
        price_per_hour=price,
        cost=cost,
    )


def flops_in_time(
    days: float | str,
    accelerator: str | Accelerator | None = None,
    *,
    peak: float | str | None = None,
    mfu: float | str = 0.4,
    devices: int | str = 1,
) -> float:
    """The inverse question: FLOPs a cluster delivers in ``days``, C = devices x peak x MFU x t."""
    t = parse_quantity(days, "days") * SECONDS_PER_DAY
    _, peak_value = _resolve_peak(accelerator, peak)
    flops = parse_count(devices, "devices") * peak_value * parse_fraction(mfu, "mfu") * t
    _check_results({"compute": flops})
    return flops


def achieved_mfu(
    flops: float | str,
    seconds: float | str,
    devices: int | str,
    accelerator: str | Accelerator | None = None,
    *,
    peak: float | str | None = None,
) -> float:
    """MFU a finished run achieved: C / (t x devices x peak) (Chowdhery et al. 2022, §4.1).

    Not clipped to (0, 1]: a value above 1 means the FLOP count or the peak is wrong.
    """
    C = parse_quantity(flops, "flops")
    t = parse_quantity(seconds, "seconds")
    _, peak_value = _resolve_peak(accelerator, peak)
    mfu = C / (t * parse_count(devices, "devices") * peak_value)
    _check_results({"MFU": mfu})
    return mfu
