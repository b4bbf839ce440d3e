import uuid
from datetime import datetime
from typing import Annotated

from fastapi_users.schemas import CreateUpdateDictModel
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.auth.permissions import Role
from app.core.schemas import StrictBool

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    username: str
    full_name: str
    role: Role
    team_id: uuid.UUID | None
    is_active: bool
    is_verified: bool
    is_superuser: bool
    approved_at: datetime | None
    approved_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class UserCreate(CreateUpdateDictModel):
    """Registration. The account cannot sign in until an admin approves it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@desk.example",
                    "password": "a long passphrase",
                    "username": "ada",
                    "full_name": "Ada Lovelace",
                }
            ]
        },
    )

    email: EmailStr
    password: str = Field(max_length=128)
    username: Username
    full_name: str = Field(default="", max_length=200)


class UserSelfUpdate(CreateUpdateDictModel):
    """What users may change about themselves; role, team and approval are not among it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"full_name": "Ada King"}]}
    )

    email: EmailStr | None = None
    password: str | None = Field(default=None, max_length=128)
    username: Username | None = None
    full_name: str | None = Field(default=None, max_length=200)


class UserAdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "analyst"}]})

    role: Role | None = None
    team_id: uuid.UUID | None = None
    is_active: StrictBool | None = None
    full_name: str | None = Field(default=None, max_length=200)


class TeamCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Equities"}]}
    )

    name: str = Field(min_length=1, max_length=100)


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime
