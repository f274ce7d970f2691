locals {
  name          = "emotionfy-${var.environment}"
  state_machine = "${local.name}-analysis"
  root          = "${path.root}/../../../.." # the repository
  tf            = "${path.root}/../.."       # infra/terraform
  tags = {
    project     = "emotionfy"
    environment = var.environment
    managed-by  = "terraform"
  }
}

module "kms" {
  source      = "../../modules/kms"
  name_prefix = local.name
}

module "secrets" {
  source          = "../../modules/secrets"
  name_prefix     = local.name
  kms_key_arn     = module.kms.key_arn
  jwt_key_version = var.jwt_key_version
}

module "network" {
  source             = "../../modules/network"
  name_prefix        = local.name
  kms_key_arn        = module.kms.key_arn
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
}

module "redis" {
  source            = "../../modules/redis"
  name_prefix       = local.name
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.redis_security_group_id
  kms_key_arn       = module.kms.key_arn
  auth_token        = module.secrets.redis_auth_token
  node_type         = var.redis_node_type
  replicas          = var.redis_replicas
}

module "atlas" {
  source       = "../../modules/atlas"
  name_prefix  = local.name
  org_id       = var.atlas_org_id
  cluster_tier = var.atlas_cluster_tier
  atlas_region = upper(replace(var.region, "-", "_"))
  password     = module.secrets.mongodb_password
  allowed_ips  = module.network.nat_public_ips
  kms_key_arn  = module.kms.key_arn
  tags         = local.tags
}

module "storage" {
  source                          = "../../modules/storage"
  name_prefix                     = local.name
  kms_key_arn                     = module.kms.key_arn
  site_origins                    = [module.site.origin]
  on_upload_function_arn          = module.lambdas.function_arns["on_upload"]
  on_upload_function_name         = module.lambdas.function_names["on_upload"]
  on_content_upload_function_arn  = module.lambdas.function_arns["on_content_upload"]
  on_content_upload_function_name = module.lambdas.function_names["on_content_upload"]
  force_destroy                   = var.force_destroy
}

# The pipeline image's repository: applied first (`terraform apply -target=module.registry`), so the
# image can be pushed before the functions that run it are created (README: Deploying).
module "registry" {
  source       = "../../modules/registry"
  name_prefix  = local.name
  kms_key_arn  = module.kms.key_arn
  keep_images  = var.pipeline_images_kept
  force_delete = var.force_destroy
}

module "lambdas" {
  source                     = "../../modules/lambdas"
  name_prefix                = local.name
  handlers_file              = "${local.tf}/handlers.json"
  function_zip               = abspath(var.function_zip)
  pipeline_image_uri         = var.pipeline_image_uri
  runtime                    = var.lambda_runtime
  kms_key_arn                = module.kms.key_arn
  subnet_ids                 = module.network.private_subnet_ids
  security_group_ids         = [module.network.lambda_security_group_id]
  access_log_bucket          = module.storage.access_log_bucket
  uploads_bucket             = module.storage.uploads_bucket
  uploads_bucket_arn         = module.storage.uploads_bucket_arn
  state_machine_name         = local.state_machine
  jwt_secret_parameter_name  = module.secrets.jwt_secret_parameter_name
  jwt_secret_parameter_arn   = module.secrets.jwt_secret_parameter_arn
  mongodb_uri_parameter_name = module.atlas.uri_parameter_name
  mongodb_uri_parameter_arn  = module.atlas.uri_parameter_arn
  redis_url                  = module.redis.url
  cors_origin                = module.site.origin
  reserved_concurrency = {
    pipeline_analyze_segment = var.segment_concurrency
  }
}

module "pipeline" {
  source        = "../../modules/pipeline"
  name          = local.state_machine
  asl_file      = "${local.root}/chalicelib/pipeline/state_machine.asl.json"
  function_arns = module.lambdas.function_arns
  kms_key_arn   = module.kms.key_arn
}

module "api" {
  source                   = "../../modules/api"
  name_prefix              = local.name
  routes_file              = "${local.tf}/api_routes.json"
  gateway_responses_file   = "${local.tf}/gateway_responses.json"
  api_function_name        = module.lambdas.function_names["api"]
  api_invoke_arn           = module.lambdas.invoke_arns["api"]
  authorizer_function_name = module.lambdas.function_names["authorizer"]
  authorizer_invoke_arn    = module.lambdas.invoke_arns["authorizer"]
  cors_origin              = module.site.origin
  kms_key_arn              = module.kms.key_arn
}

module "site" {
  source            = "../../modules/site"
  name_prefix       = local.name
  kms_key_arn       = module.kms.key_arn
  access_log_bucket = module.storage.access_log_bucket
  api_url           = module.api.url
  api_origin        = module.api.origin
  limits            = module.lambdas.client_limits
  uploads_bucket    = module.storage.uploads_bucket
  force_destroy     = var.force_destroy
}

module "monitoring" {
  source                               = "../../modules/monitoring"
  name_prefix                          = local.name
  kms_key_arn                          = module.kms.key_arn
  alarm_email                          = var.alarm_email
  state_machine_arn                    = module.pipeline.state_machine_arn
  function_names                       = module.lambdas.function_names
  on_upload_failure_queue_name         = module.lambdas.on_upload_failure_queue_name
  on_content_upload_failure_queue_name = module.lambdas.on_content_upload_failure_queue_name
  api_name                             = local.name
  api_stage                            = module.api.stage_name
}
