"""The routing YAML's contract, as pydantic models. Unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Numbers(Strict):
    """Dialled numbers the hotline answers: the unified number and legacy ones."""

    unified: str = Field(pattern=r"^[0-9*#+]{2,20}$")
    legacy: dict[str, str] = Field(default_factory=dict)


class HotlineConfig(Strict):
    version: int = 1
    name: str = "Customer hotline"
    numbers: Numbers
    languages: list[str] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
