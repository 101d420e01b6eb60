"""Energy and emissions of GPU work (after CodeCarbon / Cloud Carbon Footprint):

    IT energy (kWh)       = (power per accelerator (W) × accelerator-hours
                             + host power (W) × instance-hours) / 1000
    facility energy (kWh) = IT energy × PUE
    emissions (kg CO2e)   = facility energy × grid intensity (g/kWh) / 1000

- Power per accelerator: `power_w` if given (it then includes the accelerator's share of the
  host, so no host power is added); else idle + utilisation × (max − idle) where the catalogue
  knows idle and max watts, else utilisation × TDP.
- Host power (catalogue instance types only): per vCPU idle + utilisation × (max − idle), plus
  watts per GiB of memory (the Cloud Carbon Footprint model; constants in the carbon catalogue).
- Measured energy (`energy_kwh`, e.g. from NVML counters) replaces the power estimate; PUE and
  intensity still apply.
- Intensity: given, else the region's figure, else its country's, else the world average; the
  assumptions say which.
Every figure used comes back as an assumption with its source and basis (given, catalogue,
fallback or default).
"""

from dataclasses import dataclass, field


class FootprintError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass
class Figure:
    value: float
    unit: str
    source: str
    basis: str  # given | catalogue | fallback | default | derived


@dataclass
class Workload:
    hours: float | None = None
    gpu_count: int | None = None
    gpu_hours: float | None = None
    utilization: float | None = None
    # From the catalogue (instance workloads):
    gpus_per_node: int | None = None
    vcpus: int | None = None
    memory_gib: float | None = None
    accelerator_power: Figure | None = None  # power at the given utilisation, per accelerator
    # Explicit figures (override the catalogue):
    power_w: float | None = None
    energy_kwh: float | None = None
    pue: Figure | None = None
    intensity: Figure | None = None
    host_model: dict = field(default_factory=dict)  # vcpu_idle_w, vcpu_max_w, memory_w_per_gib


def accelerator_watts(tdp_w, idle_w, max_w, utilization) -> tuple[float, str]:
    if idle_w is not None and max_w is not None:
        return idle_w + utilization * (max_w - idle_w), "idle + utilisation × (max − idle)"
    if tdp_w is not None:
        return utilization * tdp_w, "utilisation × TDP"
    raise FootprintError("power_w", "No power figure for this accelerator; give power_w.")


def host_watts(vcpus, memory_gib, utilization, model: dict) -> float:
    per_vcpu = model["vcpu_idle_w"] + utilization * (model["vcpu_max_w"] - model["vcpu_idle_w"])
    return vcpus * per_vcpu + (memory_gib or 0) * model["memory_w_per_gib"]


def it_energy_kwh(power_w: float, gpu_hours: float, host_w: float, gpus_per_node) -> float:
    """Energy drawn by the accelerators and, per instance-hour, their hosts."""
    instance_hours = gpu_hours / gpus_per_node if gpus_per_node else 0.0
    return (power_w * gpu_hours + host_w * instance_hours) / 1000


def facility_emissions(it_kwh: float, pue: float, intensity: float) -> tuple[float, float]:
    """(energy_kwh, co2e_kg) of `it_kwh` in a data centre of `pue` on a grid of `intensity`
    g CO2e/kWh."""
    energy_kwh = it_kwh * pue
    return energy_kwh, energy_kwh * intensity / 1000


def compute(w: Workload) -> dict:
    assumptions = []

    def note(name, figure: Figure):
        assumptions.append(
            {
                "name": name,
                "value": round(figure.value, 6),
                "unit": figure.unit,
                "source": figure.source,
                "basis": figure.basis,
            }
        )

    if w.pue is None or w.intensity is None:
        raise FootprintError(
            "pue" if w.pue is None else "intensity_g_per_kwh",
            "Give it, or a provider and region to look it up.",
        )
    gpu_hours = w.gpu_hours if w.gpu_hours is not None else (w.gpu_count or 0) * (w.hours or 0)
    power_w = None
    if w.energy_kwh is not None:
        it_kwh = w.energy_kwh
        note("measured energy", Figure(w.energy_kwh, "kWh", "given (measured)", "given"))
    else:
        if not gpu_hours:
            raise FootprintError("hours", "Give hours (with gpu_count) or gpu_hours.")
        if w.power_w is not None:
            power_w = w.power_w
            note(
                "power per accelerator (includes host share)",
                Figure(w.power_w, "W", "given", "given"),
            )
            host_w = 0.0
        else:
            if w.accelerator_power is None:
                raise FootprintError("power_w", "Give power_w, or an accelerator or instance type.")
            power_w = w.accelerator_power.value
            note("power per accelerator", w.accelerator_power)
            host_w = 0.0
            if w.vcpus and w.host_model:
                host_w = host_watts(w.vcpus, w.memory_gib, w.utilization or 1.0, w.host_model)
                note(
                    "host power per instance",
                    Figure(
                        host_w,
                        "W",
                        f"{w.vcpus} vCPU × (idle {w.host_model['vcpu_idle_w']} + utilisation × "
                        f"(max {w.host_model['vcpu_max_w']} − idle)) W + {w.memory_gib or 0} GiB × "
                        f"{w.host_model['memory_w_per_gib']} W/GiB ({w.host_model['source']})",
                        "derived",
                    ),
                )
        it_kwh = it_energy_kwh(power_w, gpu_hours, host_w, w.gpus_per_node)
    note("PUE", w.pue)
    note("grid intensity", w.intensity)
    energy_kwh, co2e_kg = facility_emissions(it_kwh, w.pue.value, w.intensity.value)
    return {
        "energy_kwh": round(energy_kwh, 6),
        "it_energy_kwh": round(it_kwh, 6),
        "co2e_kg": round(co2e_kg, 6),
        "intensity_g_per_kwh": w.intensity.value,
        "pue": w.pue.value,
        "power_w": round(power_w, 3) if power_w is not None else None,
        "gpu_hours": round(gpu_hours, 6) if gpu_hours else None,
        "assumptions": assumptions,
    }
