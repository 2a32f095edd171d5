# Sharing state with a team in PostgreSQL: every run takes a PostgreSQL advisory lock, so two
# applies never interleave (the second waits with -lock-timeout, or fails naming the holder).
#
# The connection comes from the standard libpq environment, so no secret is in the file:
#
#   export PGHOST=db.internal PGUSER=snapform PGDATABASE=snapform PGPASSWORD=...
#   snapform apply
#
# (or set conn_str = "postgres://..." here, or PG_CONN_STR in the environment).

snapform {
  backend "pg" {
    schema_name = "snapform_team"
  }
}

provider "rackspace" {
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}

data "server" "db" {
  name = "db-01"
}

resource "image_schedule" "db" {
  server_id = data.server.db.id
  retention = 14
}

resource "image" "db_baseline" {
  server_id = data.server.db.id
  name      = "db-01-baseline"
  metadata = {
    team = "data-team"
  }
}
