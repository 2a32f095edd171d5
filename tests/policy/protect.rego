# A policy written for `terraform show -json` plans (OPA / conftest style): refuse to destroy
# an image whose metadata says protect = "true". It is evaluated unchanged on snapform's plans.
package terraform.images

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "image"
	"delete" in rc.change.actions
	rc.change.before.metadata.protect == "true"
	msg := sprintf("%s: refusing to destroy image %q, its metadata says protect = \"true\"", [rc.address, rc.change.before.name])
}

# Creations must say who owns them (a second rule, to see that after/after_unknown work too).
deny contains msg if {
	some rc in input.resource_changes
	rc.type == "image"
	"create" in rc.change.actions
	not rc.change.after.metadata.owner
	msg := sprintf("%s: a new image needs metadata.owner", [rc.address])
}
