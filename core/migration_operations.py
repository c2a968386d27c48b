"""Migration operations for guarantees only PostgreSQL can give; SQLite (local runs) skips them."""

from django.db import migrations


class PostgresOnly:
    """Mixed into a migration operation: the database change is made on PostgreSQL only, while the migration state
    changes everywhere (so SQLite and PostgreSQL agree on the models)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AddConstraintPostgresOnly(PostgresOnly, migrations.AddConstraint):
    pass


class AddIndexPostgresOnly(PostgresOnly, migrations.AddIndex):
    """An index of a kind only PostgreSQL has (GiST over a range, say); SQLite goes without it."""


class RemoveIndexPostgresOnly(PostgresOnly, migrations.RemoveIndex):
    """The counterpart of AddIndexPostgresOnly."""


class RunSQLPostgresOnly(PostgresOnly, migrations.RunSQL):
    """SQL only PostgreSQL understands (its range types, PL/pgSQL); SQLite goes without it."""


class _TableTrigger(migrations.operations.base.Operation):
    """A PL/pgSQL trigger function and its trigger on one table, made and dropped together (PostgreSQL only)."""

    reversible = True
    suffix = ""  # the function and trigger are named <table>_<suffix>

    def __init__(self, table: str):
        self.table = table

    @property
    def function(self) -> str:
        return f"{self.table}_{self.suffix}"

    def create_sql(self) -> str:
        raise NotImplementedError

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.create_sql(), params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {self.function} ON {self.table}; DROP FUNCTION IF EXISTS {self.function}();",
                params=None,
            )

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"table": self.table})


class AppendOnlyTable(_TableTrigger):
    """A trigger that rejects UPDATE and DELETE on a table: its rows are a record that cannot be edited."""

    suffix = "append_only"

    def create_sql(self) -> str:
        return f"""
            CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{self.table} is append-only: % is not allowed', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {self.function} BEFORE UPDATE OR DELETE ON {self.table}
                FOR EACH ROW EXECUTE FUNCTION {self.function}();
            """

    def describe(self) -> str:
        return f"Make {self.table} append-only (PostgreSQL)"


class RefuseTruncate(_TableTrigger):
    """A trigger that rejects TRUNCATE on an append-only table, as AppendOnlyTable rejects UPDATE and DELETE
    (row triggers never see a TRUNCATE). A session that sets `nexus.allow_truncate = on` may truncate: only the test
    settings set it, because Django empties the database between transactional tests with TRUNCATE."""

    suffix = "no_truncate"

    def create_sql(self) -> str:
        return f"""
            CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger AS $$
            BEGIN
                IF lower(coalesce(current_setting('nexus.allow_truncate', true), '')) = 'on' THEN
                    RETURN NULL;
                END IF;
                RAISE EXCEPTION '{self.table} is append-only: TRUNCATE is not allowed'
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {self.function} BEFORE TRUNCATE ON {self.table}
                FOR EACH STATEMENT EXECUTE FUNCTION {self.function}();
            """

    def describe(self) -> str:
        return f"Refuse TRUNCATE on {self.table} (PostgreSQL)"
