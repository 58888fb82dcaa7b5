"""The warehouse's DDL (`schema.sql`), views (`views.sql`), search macros (`search.sql`) and the
words its search index leaves out (`search_stop_words.txt`), installed as `pipelines.sql`."""
