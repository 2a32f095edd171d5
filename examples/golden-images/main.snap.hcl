# Golden images per region: one provider configuration per region (aliases), a snapshot of
# the reference web server in each, named for the release and tagged with the base image it
# was built from, and a weekly schedule for each reference server.
#
# Runs against the embedded sandbox (web-01 in DFW, web-03 in ORD).

provider "rackspace" {
  alias   = "dfw"
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}

provider "rackspace" {
  alias   = "ord"
  sandbox = ".snapform/sandbox"
  region  = "ORD"
}

variable "release" {
  type        = string
  default     = "2026-12"
  description = "Release tag, part of every golden image's name."
}

locals {
  metadata = {
    team    = "platform-team"
    release = var.release
    role    = "web"
  }
}

data "server" "web_dfw" {
  provider = rackspace.dfw
  name     = "web-01"
}

data "server" "web_ord" {
  provider = rackspace.ord
  name     = "web-03"
}

# The base images the servers were built from (read only: base images belong to the cloud).
data "image" "base_dfw" {
  provider = rackspace.dfw
  id       = data.server.web_dfw.image_id
}

data "image" "base_ord" {
  provider = rackspace.ord
  id       = data.server.web_ord.image_id
}

resource "image" "golden_dfw" {
  provider  = rackspace.dfw
  server_id = data.server.web_dfw.id
  name      = "golden-web-dfw-${var.release}"
  metadata  = merge(local.metadata, { base_image = data.image.base_dfw.name })
}

resource "image" "golden_ord" {
  provider  = rackspace.ord
  server_id = data.server.web_ord.id
  name      = "golden-web-ord-${var.release}"
  metadata  = merge(local.metadata, { base_image = data.image.base_ord.name })
}

# A weekly safety net for each reference server too.
resource "image_schedule" "web_dfw" {
  provider    = rackspace.dfw
  server_id   = data.server.web_dfw.id
  retention   = 2
  day_of_week = "saturday"
}

resource "image_schedule" "web_ord" {
  provider    = rackspace.ord
  server_id   = data.server.web_ord.id
  retention   = 2
  day_of_week = "saturday"
}

output "golden_images" {
  value = {
    DFW = image.golden_dfw.id
    ORD = image.golden_ord.id
  }
}
