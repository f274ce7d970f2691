data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
}

# The pipeline functions' container image (layers/onnx-runtime/Dockerfile): the engine's native packages
# and the ONNX models are 288.7 MB unzipped, over the 250 MB a zip function and its layers may have
# (layers/onnx-runtime/README.md); an image may have 10 GB. Pushed before the functions are created
# (README: Deploying), and referenced by tag or digest through `pipeline_image_uri`.
resource "aws_ecr_repository" "pipeline" {
  name                 = "${var.name_prefix}-pipeline"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

# Untagged images (a failed or superseded push) go after a week; of the tagged ones the newest
# `keep_images` stay, so a rollback to a recent image needs no rebuild. A function whose image has been
# expired cannot start again: deploy one of the newest `keep_images` pushes.
resource "aws_ecr_lifecycle_policy" "pipeline" {
  repository = aws_ecr_repository.pipeline.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after 7 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image with its service principal; only this project's functions may.
resource "aws_ecr_repository_policy" "pipeline" {
  repository = aws_ecr_repository.pipeline.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaPullsTheProjectsFunctions"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Condition = {
          StringLike = {
            "aws:sourceArn" = "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.name_prefix}-*"
          }
        }
      },
    ]
  })
}
