"""Seeding a benchmark's rows in one statement per table, from generate_series (PostgreSQL)."""


def insert_series(cursor, model, special: dict[str, str], params: dict, *, count: str) -> None:
    """INSERT one row of `model` per g in 1..params[count], in one statement.

    `special` gives the SQL of the columns that vary (by field name, in terms of g, which may use
    params' %(name)s placeholders); every other column gets the model's default, so a new field
    needs no change in the benchmarks. `params` also receives those defaults.
    """
    connection = cursor.db
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in special:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in special:
            values.append(special[field.name])
        else:
            params[field.column] = field.get_db_prep_save(field.get_default(), connection)
            values.append(f"%({field.column})s")
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, %({count})s) AS g",
        params,
    )
