# Weekly scheduled snapshots for a fleet: one `image_schedule` per server, from one list.
# Add a server name to `servers` and the next plan adds its schedule; remove one and the
# plan disables that schedule (its existing snapshots stay).
#
# Runs against the embedded sandbox (servers web-01, web-02 and db-01 in DFW).

provider "rackspace" {
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}

variable "servers" {
  type        = list(string)
  default     = ["web-01", "web-02", "db-01"]
  description = "Names of the servers to back up."
}

variable "retention" {
  type        = number
  default     = 4
  description = "How many weekly snapshots each server keeps."

  validation {
    condition     = var.retention >= 1 && var.retention <= 52
    error_message = "Keep between 1 and 52 weekly snapshots."
  }
}

variable "day_of_week" {
  type    = string
  default = "sunday"
}

data "server" "fleet" {
  for_each = toset(var.servers)
  name     = each.key
}

resource "image_schedule" "weekly" {
  for_each    = data.server.fleet
  server_id   = each.value.id
  retention   = var.retention
  day_of_week = var.day_of_week
}

output "schedules" {
  description = "Server name to the day its weekly snapshot runs."
  value       = { for name, s in image_schedule.weekly : name => s.day_of_week }
}
