"""create staged_contents: pushed documents' bytes waiting for a worker (Celery mode)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staged_contents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staged_contents_created", "staged_contents", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_staged_contents_created", table_name="staged_contents")
    op.drop_table("staged_contents")
