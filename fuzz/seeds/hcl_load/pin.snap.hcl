# Pinning a scheduled snapshot forever: web-01 takes a daily snapshot and keeps 3; before a
# risky upgrade, pin the latest one so retention never deletes it.
#
#   snapform apply                                          # the schedule
#   # ... a day later, the schedule has made Daily-web-01-<epoch> ...
#   snapform apply -var snapshot_name=Daily-web-01-<epoch>  # pin it
#
# Pinning removes the scheduled-images marker (the service culls only marked snapshots) and
# tags the snapshot. Destroying `image_metadata.pin` removes only the tag: the snapshot stays
# unmarked, so it stays pinned.
#
# Runs against the embedded sandbox (web-01 in DFW).

provider "rackspace" {
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}

variable "snapshot_name" {
  type        = string
  default     = ""
  description = "Name of the scheduled snapshot to pin; empty pins nothing."
}

variable "reason" {
  type    = string
  default = "before the kernel upgrade"
}

data "server" "web" {
  name = "web-01"
}

resource "image_schedule" "daily" {
  server_id = data.server.web.id
  retention = 3
}

data "image" "to_pin" {
  count     = var.snapshot_name == "" ? 0 : 1
  name      = var.snapshot_name
  server_id = data.server.web.id
  type      = "SNAPSHOT"
}

resource "image_metadata" "pin" {
  count       = var.snapshot_name == "" ? 0 : 1
  image_id    = data.image.to_pin[0].id
  absent_keys = ["org.openstack__1__created_by"]
  metadata = {
    pinned = var.reason
  }
}

output "pinned_image_id" {
  value = var.snapshot_name == "" ? null : data.image.to_pin[0].id
}
