variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "org_id" {
  description = "MongoDB Atlas organisation ID."
  type        = string
}

variable "cluster_tier" {
  description = "\"FLEX\" for a Flex cluster (pay as you go), or a dedicated instance size such as \"M10\"."
  type        = string
  default     = "M10"
  validation {
    condition     = var.cluster_tier == "FLEX" || can(regex("^M[0-9]+$", var.cluster_tier))
    error_message = "cluster_tier must be FLEX or an instance size like M10."
  }
}

variable "atlas_region" {
  description = "Atlas region name of the cluster, the same AWS region as the functions (e.g. US_EAST_1)."
  type        = string
}

variable "database" {
  description = "Database the application uses (MONGODB_DATABASE)."
  type        = string
  default     = "emotionfy"
}

variable "username" {
  description = "Atlas database user of the application."
  type        = string
  default     = "emotionfy-app"
}

variable "password" {
  description = "Password of the database user (alphanumeric; see modules/secrets)."
  type        = string
  sensitive   = true
}

variable "allowed_ips" {
  description = "Addresses allowed into the Atlas project: the NAT gateways' Elastic IPs."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the connection-string parameter."
  type        = string
}

variable "tags" {
  description = "Tags of the Atlas project and cluster."
  type        = map(string)
  default     = {}
}
