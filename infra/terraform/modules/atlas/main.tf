locals {
  flex = var.cluster_tier == "FLEX"
  srv = local.flex ? mongodbatlas_flex_cluster.this[0].connection_strings.standard_srv : (
    mongodbatlas_advanced_cluster.this[0].connection_strings[0].standard_srv
  )
  uri = "${replace(local.srv, "mongodb+srv://", "mongodb+srv://${var.username}:${var.password}@")}/?retryWrites=true&w=majority&appName=emotionfy"
}

resource "mongodbatlas_project" "this" {
  name   = var.name_prefix
  org_id = var.org_id
  tags   = var.tags
}

resource "mongodbatlas_advanced_cluster" "this" {
  count          = local.flex ? 0 : 1
  project_id     = mongodbatlas_project.this.id
  name           = var.name_prefix
  cluster_type   = "REPLICASET"
  backup_enabled = true

  replication_specs {
    region_configs {
      provider_name = "AWS"
      region_name   = var.atlas_region
      priority      = 7
      electable_specs {
        instance_size = var.cluster_tier
        node_count    = 3
      }
    }
  }

  dynamic "tags" {
    for_each = var.tags
    content {
      key   = tags.key
      value = tags.value
    }
  }
}

resource "mongodbatlas_flex_cluster" "this" {
  count      = local.flex ? 1 : 0
  project_id = mongodbatlas_project.this.id
  name       = var.name_prefix
  provider_settings = {
    backing_provider_name = "AWS"
    region_name           = var.atlas_region
  }
  tags = var.tags
}

# Atlas is reached over the internet from the NAT gateways' fixed addresses (TLS, SCRAM); PrivateLink
# would need a dedicated tier and an interface endpoint per region, and is not set up here.
resource "mongodbatlas_project_ip_access_list" "nat" {
  count      = length(var.allowed_ips)
  project_id = mongodbatlas_project.this.id
  ip_address = var.allowed_ips[count.index]
  comment    = "${var.name_prefix} NAT gateway ${count.index}"
}

resource "mongodbatlas_database_user" "app" {
  project_id         = mongodbatlas_project.this.id
  username           = var.username
  password           = var.password
  auth_database_name = "admin"

  roles {
    role_name     = "readWrite"
    database_name = var.database
  }

  scopes {
    name = var.name_prefix
    type = "CLUSTER"
  }
}

resource "aws_ssm_parameter" "uri" {
  name        = "/${var.name_prefix}/mongodb-uri"
  description = "MongoDB Atlas connection string with credentials (MONGODB_URI_PARAM)"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = local.uri
}
