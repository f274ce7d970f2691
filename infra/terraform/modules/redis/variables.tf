variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two zones) for the cache nodes."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group admitting 6379 from the Lambda functions only."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for at-rest encryption and the token parameter."
  type        = string
}

variable "auth_token" {
  description = "AUTH token (16-128 alphanumeric characters)."
  type        = string
  sensitive   = true
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "replicas" {
  description = "Replicas beside the primary (automatic failover needs at least one)."
  type        = number
  default     = 1
  validation {
    condition     = var.replicas >= 1
    error_message = "At least one replica: sessions and the token denylist must survive a node failure."
  }
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots (sessions and the token denylist survive a node loss)."
  type        = number
  default     = 3
}

variable "database" {
  description = "Redis logical database in the URL."
  type        = number
  default     = 0
}
