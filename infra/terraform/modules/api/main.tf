data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  routes = jsondecode(file(var.routes_file))

  # Chalice dispatches on API Gateway's resource path ({video_id} included), so each route is its own
  # resource: a {proxy+} catch-all would reach the function with a resource path Chalice does not know.
  paths    = distinct([for r in local.routes : r.path])
  segments = { for p in local.paths : p => split("/", trimprefix(p, "/")) }
  resource_paths = distinct(flatten([
    for p, s in local.segments : [for i in range(length(s)) : "/${join("/", slice(s, 0, i + 1))}"]
  ]))
  depth  = { for p in local.resource_paths : p => length(split("/", p)) - 1 }
  parent = { for p in local.resource_paths : p => "/${join("/", slice(split("/", p), 1, local.depth[p]))}" }
  part   = { for p in local.resource_paths : p => element(split("/", p), local.depth[p]) }
  level1 = toset([for p in local.resource_paths : p if local.depth[p] == 1])
  level2 = toset([for p in local.resource_paths : p if local.depth[p] == 2])
  level3 = toset([for p in local.resource_paths : p if local.depth[p] == 3])
  level4 = toset([for p in local.resource_paths : p if local.depth[p] == 4])
  level5 = toset([for p in local.resource_paths : p if local.depth[p] == 5])
  resource_ids = merge(
    { for p, r in aws_api_gateway_resource.level1 : p => r.id },
    { for p, r in aws_api_gateway_resource.level2 : p => r.id },
    { for p, r in aws_api_gateway_resource.level3 : p => r.id },
    { for p, r in aws_api_gateway_resource.level4 : p => r.id },
    { for p, r in aws_api_gateway_resource.level5 : p => r.id },
  )

  methods = { for r in local.routes : "${r.method} ${r.path}" => r }
  path_params = {
    for p in local.paths : p => { for name in flatten(regexall("\\{([a-z_]+)\\}", p)) : "method.request.path.${name}" => true }
  }
  allowed_methods = { for p in local.paths : p => join(",", concat([for r in local.routes : r.method if r.path == p], ["OPTIONS"])) }

  # The request headers the web app sends (app.py's chalice.CORSConfig allow_headers): the JWT, JSON, and
  # on the viewer page (/watch/{token}) an invite's token and a viewer's withdraw token.
  allow_headers = "Authorization,Content-Type,X-Invite-Token,X-Withdraw-Token"

  # Retry-After (the 503s of the authorizer) is readable by the web app only when exposed.
  cors_headers = {
    "gatewayresponse.header.Access-Control-Allow-Origin"   = "'${var.cors_origin}'"
    "gatewayresponse.header.Access-Control-Allow-Headers"  = "'${local.allow_headers}'"
    "gatewayresponse.header.Access-Control-Expose-Headers" = "'Retry-After'"
  }

  # API Gateway's own answers in the API's error shape (infra/terraform/gateway_responses.json, shared with
  # localstack/). UNAUTHORIZED and AUTHORIZER_* carry chalicelib/auth/authorizer.py's UNAUTHORIZED_BODY and
  # AUTHORIZER_UNAVAILABLE_BODY; MISSING_AUTHENTICATION_TOKEN (an unknown route) devstack's FORBIDDEN_BODY.
  gateway_responses = jsondecode(file(var.gateway_responses_file))
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name_prefix
  description = "Emotionfy API (Chalice app.app behind a JWT authorizer)"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = alltrue([for p in local.resource_paths : local.depth[p] <= 5])
      error_message = "api_routes.json has a path deeper than 5 segments; add a level6 resource block."
    }
  }
}

resource "aws_api_gateway_resource" "level1" {
  for_each    = local.level1
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = local.part[each.key]
}

resource "aws_api_gateway_resource" "level2" {
  for_each    = local.level2
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level1[local.parent[each.key]].id
  path_part   = local.part[each.key]
}

resource "aws_api_gateway_resource" "level3" {
  for_each    = local.level3
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level2[local.parent[each.key]].id
  path_part   = local.part[each.key]
}

# /invite/viewers/{viewer_id}/upload, /studies/{study_id}/invites/{invite_id}
resource "aws_api_gateway_resource" "level4" {
  for_each    = local.level4
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level3[local.parent[each.key]].id
  path_part   = local.part[each.key]
}

# /studies/{study_id}/viewers/{viewer_id}/curve
resource "aws_api_gateway_resource" "level5" {
  for_each    = local.level5
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level4[local.parent[each.key]].id
  path_part   = local.part[each.key]
}

resource "aws_api_gateway_authorizer" "jwt" {
  name                             = "jwt_auth"
  rest_api_id                      = aws_api_gateway_rest_api.this.id
  type                             = "TOKEN"
  authorizer_uri                   = var.authorizer_invoke_arn
  identity_source                  = "method.request.header.Authorization"
  authorizer_result_ttl_in_seconds = var.authorizer_ttl_seconds
}

resource "aws_api_gateway_method" "route" {
  #checkov:skip=CKV_AWS_59: register, login, refresh, consent, health and the invite routes (an invite's token in X-Invite-Token, checked by the function) are public by design; every other route uses the JWT authorizer
  #checkov:skip=CKV2_AWS_53: request bodies are validated by the function (chalicelib/validation.py) with the API's error shape
  for_each           = local.methods
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = local.resource_ids[each.value.path]
  http_method        = each.value.method
  authorization      = each.value.authorized ? "CUSTOM" : "NONE"
  authorizer_id      = each.value.authorized ? aws_api_gateway_authorizer.jwt.id : null
  request_parameters = local.path_params[each.value.path]
}

resource "aws_api_gateway_integration" "route" {
  for_each                = local.methods
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = local.resource_ids[each.value.path]
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = var.api_invoke_arn
}

# CORS preflights, answered by API Gateway itself as `chalice deploy` would (no authorizer, no function).
resource "aws_api_gateway_method" "preflight" {
  #checkov:skip=CKV_AWS_59: browsers send CORS preflights without credentials
  #checkov:skip=CKV2_AWS_53: a preflight has no body to validate
  for_each      = toset(local.paths)
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = local.resource_ids[each.key]
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "preflight" {
  for_each          = toset(local.paths)
  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = local.resource_ids[each.key]
  http_method       = aws_api_gateway_method.preflight[each.key].http_method
  type              = "MOCK"
  request_templates = { "application/json" = "{\"statusCode\": 200}" }
}

resource "aws_api_gateway_method_response" "preflight" {
  for_each    = toset(local.paths)
  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = local.resource_ids[each.key]
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = "200"
  response_parameters = {
    "method.response.header.Access-Control-Allow-Origin"  = true
    "method.response.header.Access-Control-Allow-Methods" = true
    "method.response.header.Access-Control-Allow-Headers" = true
    "method.response.header.Access-Control-Max-Age"       = true
  }
}

resource "aws_api_gateway_integration_response" "preflight" {
  for_each    = toset(local.paths)
  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = local.resource_ids[each.key]
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = aws_api_gateway_method_response.preflight[each.key].status_code
  # chalice.CORSConfig in app.py: the site's origin, its request headers, 600 s.
  response_parameters = {
    "method.response.header.Access-Control-Allow-Origin"  = "'${var.cors_origin}'"
    "method.response.header.Access-Control-Allow-Methods" = "'${local.allowed_methods[each.key]}'"
    "method.response.header.Access-Control-Allow-Headers" = "'${local.allow_headers}'"
    "method.response.header.Access-Control-Max-Age"       = "'600'"
  }
  depends_on = [aws_api_gateway_integration.preflight]
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each           = local.gateway_responses
  rest_api_id        = aws_api_gateway_rest_api.this.id
  response_type      = each.key
  status_code        = each.value.status
  response_templates = { "application/json" = each.value.template }
  response_parameters = merge(
    local.cors_headers,
    { for name, value in each.value.headers : "gatewayresponse.header.${name}" => "'${value}'" },
  )
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = var.api_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/authorizers/${aws_api_gateway_authorizer.jwt.id}"
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  # A new deployment whenever anything the stage serves changes: the resources themselves are hashed (every
  # argument, literals in this file included), not only the inputs they are built from.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.level1,
      aws_api_gateway_resource.level2,
      aws_api_gateway_resource.level3,
      aws_api_gateway_resource.level4,
      aws_api_gateway_resource.level5,
      aws_api_gateway_authorizer.jwt,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
      aws_api_gateway_method.preflight,
      aws_api_gateway_integration.preflight,
      aws_api_gateway_method_response.preflight,
      aws_api_gateway_integration_response.preflight,
      aws_api_gateway_gateway_response.this,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.route,
    aws_api_gateway_integration_response.preflight,
    aws_api_gateway_gateway_response.this,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name_prefix}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120: responses are per user and per token; caching them would serve one user's data to another
  #checkov:skip=CKV2_AWS_51: a browser-facing API; client certificates authenticate API Gateway to a backend, and the backend is Lambda
  #checkov:skip=CKV2_AWS_29: no WAF in this example: login is rate-limited per email and IP in Redis, invite tokens are 256-bit random, the stage (every route, public ones included) is throttled; attach a web ACL for production
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      authorizerError    = "$context.authorizer.error"
      errorResponseType  = "$context.error.responseType"
      principalId        = "$context.authorizer.principalId"
      # The authorizer's own Lambda request id: a TOKEN authorizer's event has no API request id, so its
      # log lines are correlated by this one (chalicelib/observability.py: logged_authorizer).
      authorizerRequestId = "$context.authorizer.requestId"
    })
  }

  depends_on = [aws_api_gateway_account.this]
}

# One throttle for every method of the stage, the public ones (login, the invite routes) included. No tighter
# per-route limit: API Gateway's are shared by all callers, so one client hammering /invite would shut out
# every viewer; per-client limits are the function's (login in Redis) or a WAF rate-based rule's.
resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225: caching is off on purpose (per-user responses, see the stage)
  #checkov:skip=CKV_AWS_308: nothing is cached, so there is no cache to encrypt
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false # would log request bodies: passwords and tokens
    caching_enabled        = false
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudwatch" {
  count              = var.manage_account_logging_role ? 1 : 0
  name               = "${var.name_prefix}-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

resource "aws_iam_role_policy_attachment" "cloudwatch" {
  count      = var.manage_account_logging_role ? 1 : 0
  role       = aws_iam_role.cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_account_logging_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn
  depends_on          = [aws_iam_role_policy_attachment.cloudwatch]
}
