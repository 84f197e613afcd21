"""Grid signals the EMS obeys: EDF-SEI's ZNI signal for now (Tempo, EcoWatt: #22)."""

from hub_engine.signals.service import SOURCE, SignalService

__all__ = ["SOURCE", "SignalService"]
