# The quickstart: a golden snapshot of web-01, tagged, with a weekly schedule.
# Runs against the embedded sandbox: no account and no second process needed.

provider "rackspace" {
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}

variable "retention" {
  type        = number
  default     = 7
  description = "How many scheduled snapshots to keep."
}

locals {
  team = "platform-team"
}

data "server" "web" {
  name = "web-01"
}

resource "image_schedule" "web" {
  server_id   = data.server.web.id
  retention   = var.retention
  day_of_week = "saturday"
}

resource "image" "golden" {
  server_id = data.server.web.id
  name      = "golden-${data.server.web.name}"
  metadata = {
    team = local.team
    role = "web"
  }
}

resource "image_metadata" "golden_cost" {
  image_id = image.golden.id
  metadata = {
    cost_center = "cc-1234"
  }
}

output "golden_image_id" {
  value = image.golden.id
}
