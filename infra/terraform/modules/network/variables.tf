variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Zones (by name) of the private and NAT subnets; at least 2 for ElastiCache failover. Named, so a zone AWS adds later changes nothing."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper; egress stops if its zone fails) instead of one per zone."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints instead of the NAT gateway."
  type        = list(string)
  default     = ["states", "ssm", "rekognition", "xray"]
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the flow-log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept."
  type        = number
  default     = 365
}
