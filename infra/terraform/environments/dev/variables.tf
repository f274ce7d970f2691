variable "region" {
  description = "AWS region of the whole deployment (Atlas uses the same region)."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Zones of the private subnets (at least two, in var.region)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "environment" {
  description = "Environment name, part of every resource name."
  type        = string
  default     = "dev"
}

variable "function_zip" {
  description = "Function package built by `chalice package` (see README), relative to this directory or absolute."
  type        = string
  default     = "../../../../build/chalice/deployment.zip"
}

variable "pipeline_image_uri" {
  description = "Pipeline image pushed to `terraform output -raw pipeline_repository_url`, with its tag or digest (README: Deploying). Null only for the first `-target=module.registry` apply."
  type        = string
  default     = null
}

variable "pipeline_images_kept" {
  description = "Tagged pipeline images the repository keeps (older ones expire)."
  type        = number
  default     = 20
}

variable "lambda_runtime" {
  description = "Lambda Python runtime of the zip functions (api, authorizer, on_upload); the function package must be built for it."
  type        = string
  default     = "python3.12"
}

variable "atlas_org_id" {
  description = "MongoDB Atlas organisation ID."
  type        = string
}

variable "atlas_cluster_tier" {
  description = "\"FLEX\" or a dedicated tier such as \"M10\"."
  type        = string
  default     = "M10"
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_replicas" {
  description = "ElastiCache replicas (at least 1: automatic failover)."
  type        = number
  default     = 1
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone."
  type        = bool
  default     = true
}

variable "segment_concurrency" {
  description = "Reserved concurrency of the segment function, or null (the default) for none. When set (at least EMOTIONFY_MAP_MAX_CONCURRENCY x videos analysed at once), the account's Lambda \"Concurrent executions\" quota must be at least 100 + this: Lambda keeps 100 unreserved and new accounts start at 10, so request the increase in Service Quotas first, or creating the function fails."
  type        = number
  default     = null
  validation {
    condition     = var.segment_concurrency == null || try(var.segment_concurrency >= 1, false)
    error_message = "segment_concurrency must be null (no reservation) or at least 1."
  }
}

variable "jwt_key_version" {
  description = "Bump to rotate the JWT signing key (README: rotating the JWT key)."
  type        = number
  default     = 1
}

variable "alarm_email" {
  description = "E-mail address for alarms; null for none."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (dev only)."
  type        = bool
  default     = true
}
