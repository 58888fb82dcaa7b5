"""The warehouse's DDL (`schema.sql`) and views (`views.sql`), installed as `pipelines.sql`."""
