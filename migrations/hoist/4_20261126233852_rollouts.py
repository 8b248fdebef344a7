"""4_20261126233852_rollouts.py: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    "sqlite": {
        "upgrade": 'ALTER TABLE "deploy_task" ADD "resume_at" TIMESTAMP;\n        ALTER TABLE "deploy_task" ADD "announced_at" TIMESTAMP;\n        ALTER TABLE "deploy_task" ADD "paused_at" TIMESTAMP;\n        ALTER TABLE "deploy_task" ADD "step" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "deploy_task" ADD "pause_reminded_at" TIMESTAMP;\n        ALTER TABLE "deploy_task" ADD "plan_steps" JSON NOT NULL DEFAULT \'[]\';\n        ALTER TABLE "deploy_task" ADD "plan_name" VARCHAR(64) NOT NULL DEFAULT \'\';\n        -- SQLite keeps no column comments;\n        ALTER TABLE "environment" ADD "pause_reminder" INT NOT NULL DEFAULT 1800;\n        ALTER TABLE "environment" ADD "rollout_default" VARCHAR(64);\n        ALTER TABLE "environment" ADD "auto_rollback" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "environment" ADD "max_failed" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "environment" ADD "health_check" JSON;\n        ALTER TABLE "environment" ADD "rollout_plans" JSON NOT NULL DEFAULT \'{}\';\n        -- SQLite keeps no column comments;',
        "downgrade": 'ALTER TABLE "deploy_task" DROP COLUMN "resume_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "announced_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "paused_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "step";\n        ALTER TABLE "deploy_task" DROP COLUMN "pause_reminded_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "plan_steps";\n        ALTER TABLE "deploy_task" DROP COLUMN "plan_name";\n        -- SQLite keeps no column comments;\n        ALTER TABLE "environment" DROP COLUMN "pause_reminder";\n        ALTER TABLE "environment" DROP COLUMN "rollout_default";\n        ALTER TABLE "environment" DROP COLUMN "auto_rollback";\n        ALTER TABLE "environment" DROP COLUMN "max_failed";\n        ALTER TABLE "environment" DROP COLUMN "health_check";\n        ALTER TABLE "environment" DROP COLUMN "rollout_plans";\n        -- SQLite keeps no column comments;',
    },
    "postgres": {
        "upgrade": 'ALTER TABLE "deploy_task" ADD "plan_steps" JSONB NOT NULL DEFAULT \'[]\';\n        ALTER TABLE "deploy_task" ADD "step" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "deploy_task" ADD "paused_at" TIMESTAMPTZ;\n        ALTER TABLE "deploy_task" ADD "announced_at" TIMESTAMPTZ;\n        ALTER TABLE "deploy_task" ADD "resume_at" TIMESTAMPTZ;\n        ALTER TABLE "deploy_task" ADD "plan_name" VARCHAR(64) NOT NULL DEFAULT \'\';\n        ALTER TABLE "deploy_task" ADD "pause_reminded_at" TIMESTAMPTZ;\n        COMMENT ON COLUMN "deploy_task"."status" IS \'PENDING_APPROVAL: pending_approval\nSCHEDULED: scheduled\nQUEUED: queued\nRUNNING: running\nCANARY: canary\nPAUSED: paused\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled\nREJECTED: rejected\nINTERRUPTED: interrupted\nMISSED: missed\';\n        ALTER TABLE "environment" ADD "pause_reminder" INT NOT NULL DEFAULT 1800;\n        ALTER TABLE "environment" ADD "rollout_plans" JSONB NOT NULL DEFAULT \'{}\';\n        ALTER TABLE "environment" ADD "max_failed" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "environment" ADD "rollout_default" VARCHAR(64);\n        ALTER TABLE "environment" ADD "health_check" JSONB;\n        ALTER TABLE "environment" ADD "auto_rollback" BOOL NOT NULL DEFAULT False;\n        COMMENT ON COLUMN "stage_run"."stage" IS \'START: start\nPRE_DOWNLOAD: pre_download\nDOWNLOAD: download\nPOST_DOWNLOAD: post_download\nPACKAGE: package\nUPLOAD: upload\nPRE_DEPLOY: pre_deploy\nDEPLOY: deploy\nPOST_DEPLOY: post_deploy\nHEALTH: health\';',
        "downgrade": 'COMMENT ON COLUMN "stage_run"."stage" IS \'START: start\nPRE_DOWNLOAD: pre_download\nDOWNLOAD: download\nPOST_DOWNLOAD: post_download\nPACKAGE: package\nUPLOAD: upload\nPRE_DEPLOY: pre_deploy\nDEPLOY: deploy\nPOST_DEPLOY: post_deploy\';\n        ALTER TABLE "deploy_task" DROP COLUMN "plan_steps";\n        ALTER TABLE "deploy_task" DROP COLUMN "step";\n        ALTER TABLE "deploy_task" DROP COLUMN "paused_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "announced_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "resume_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "plan_name";\n        ALTER TABLE "deploy_task" DROP COLUMN "pause_reminded_at";\n        COMMENT ON COLUMN "deploy_task"."status" IS \'PENDING_APPROVAL: pending_approval\nSCHEDULED: scheduled\nQUEUED: queued\nRUNNING: running\nCANARY: canary\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled\nREJECTED: rejected\nINTERRUPTED: interrupted\nMISSED: missed\';\n        ALTER TABLE "environment" DROP COLUMN "pause_reminder";\n        ALTER TABLE "environment" DROP COLUMN "rollout_plans";\n        ALTER TABLE "environment" DROP COLUMN "max_failed";\n        ALTER TABLE "environment" DROP COLUMN "rollout_default";\n        ALTER TABLE "environment" DROP COLUMN "health_check";\n        ALTER TABLE "environment" DROP COLUMN "auto_rollback";',
    },
    "mysql": {
        "upgrade": "ALTER TABLE `deploy_task` ADD `resume_at` DATETIME(6);\n        ALTER TABLE `deploy_task` ADD `plan_steps` JSON NOT NULL DEFAULT '[]';\n        ALTER TABLE `deploy_task` ADD `pause_reminded_at` DATETIME(6);\n        ALTER TABLE `deploy_task` ADD `step` INT NOT NULL DEFAULT 0;\n        ALTER TABLE `deploy_task` ADD `paused_at` DATETIME(6);\n        ALTER TABLE `deploy_task` ADD `plan_name` VARCHAR(64) NOT NULL DEFAULT '';\n        ALTER TABLE `deploy_task` ADD `announced_at` DATETIME(6);\n        ALTER TABLE `deploy_task` MODIFY COLUMN `status` VARCHAR(32) NOT NULL COMMENT 'PENDING_APPROVAL: pending_approval\nSCHEDULED: scheduled\nQUEUED: queued\nRUNNING: running\nCANARY: canary\nPAUSED: paused\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled\nREJECTED: rejected\nINTERRUPTED: interrupted\nMISSED: missed';\n        ALTER TABLE `environment` ADD `rollout_plans` JSON NOT NULL DEFAULT '{}';\n        ALTER TABLE `environment` ADD `max_failed` INT NOT NULL DEFAULT 0;\n        ALTER TABLE `environment` ADD `auto_rollback` BOOL NOT NULL DEFAULT 0;\n        ALTER TABLE `environment` ADD `pause_reminder` INT NOT NULL DEFAULT 1800;\n        ALTER TABLE `environment` ADD `rollout_default` VARCHAR(64);\n        ALTER TABLE `environment` ADD `health_check` JSON;\n        ALTER TABLE `stage_run` MODIFY COLUMN `stage` VARCHAR(32) NOT NULL COMMENT 'START: start\nPRE_DOWNLOAD: pre_download\nDOWNLOAD: download\nPOST_DOWNLOAD: post_download\nPACKAGE: package\nUPLOAD: upload\nPRE_DEPLOY: pre_deploy\nDEPLOY: deploy\nPOST_DEPLOY: post_deploy\nHEALTH: health';",
        "downgrade": "ALTER TABLE `deploy_task` DROP COLUMN `resume_at`;\n        ALTER TABLE `deploy_task` DROP COLUMN `plan_steps`;\n        ALTER TABLE `deploy_task` DROP COLUMN `pause_reminded_at`;\n        ALTER TABLE `deploy_task` DROP COLUMN `step`;\n        ALTER TABLE `deploy_task` DROP COLUMN `paused_at`;\n        ALTER TABLE `deploy_task` DROP COLUMN `plan_name`;\n        ALTER TABLE `deploy_task` DROP COLUMN `announced_at`;\n        ALTER TABLE `deploy_task` MODIFY COLUMN `status` VARCHAR(32) NOT NULL COMMENT 'PENDING_APPROVAL: pending_approval\nSCHEDULED: scheduled\nQUEUED: queued\nRUNNING: running\nCANARY: canary\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled\nREJECTED: rejected\nINTERRUPTED: interrupted\nMISSED: missed';\n        ALTER TABLE `environment` DROP COLUMN `rollout_plans`;\n        ALTER TABLE `environment` DROP COLUMN `max_failed`;\n        ALTER TABLE `environment` DROP COLUMN `auto_rollback`;\n        ALTER TABLE `environment` DROP COLUMN `pause_reminder`;\n        ALTER TABLE `environment` DROP COLUMN `rollout_default`;\n        ALTER TABLE `environment` DROP COLUMN `health_check`;\n        ALTER TABLE `stage_run` MODIFY COLUMN `stage` VARCHAR(32) NOT NULL COMMENT 'START: start\nPRE_DOWNLOAD: pre_download\nDOWNLOAD: download\nPOST_DOWNLOAD: post_download\nPACKAGE: package\nUPLOAD: upload\nPRE_DEPLOY: pre_deploy\nDEPLOY: deploy\nPOST_DEPLOY: post_deploy';",
    },
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    "eJztXelz2zYW/1c4+pTOuKkjx0c9Ozsjy0yijSxpJblX3OFQFCSxpgAWJO243fzvC4D3aU"
    "IHRbH44rEAPJD8AXh4Fx7+bq2QbtlvO6aJ0ZNqtK6lv1tQXQPyT7LqRGqpphlU0N+2OjNY"
    "UzXaaGbZWNVsUr5QDQuQojmwNKybto4gKYWOYdBCpJGGOlyGRQ7U/3SAYqMlsFcAk4ovX8"
    "hDrEfaLwZPOngmpb//Tn7pcA6+Aos2oT/NR2WhA2Me+wB9TulYuWK/mKysB+0PrCF9g5mi"
    "IcNZw7Cx+WKvEAxa65B95xJAgFUb0O5t7NBPom/sfb3/le7bh03cV4zQzMFCdQw7AsFMCc"
    "taijIYTpWJPFWUFgdoGoIUcPKqFvv6JX2F79vv3l++vzq7eH9FmrDXDEouv7mPDoFxCRk8"
    "g2nrG6tXbdVtwTAOQQ2GIQVtd6XibGyjNAmEyasnEfbxLILYLwgxDudaFSCv1a+KAeDSXp"
    "Gf79pXBZD+1Bl3P3XGb0ir7+gjEVkc7qoZeFVtt47iHuI8B5pu0dfKxFmGzpph3SPvpUIN"
    "pDCP0tcZ81ZnNBoPf5KvJZeJgAc4lv8jd6fXEgZ/AI0tQO4RuSgzIBf543GRHA4NrdfA5Q"
    "bx0ZiCrzkcJUJS3QC0Wnua8gWATuVfprTntWX9aUSBfHPX+YVhvH7xavrDwUe/eQT4bn94"
    "kwQcAwqNomZgfktqbH0NcnCPUSagn3ukb/1/6rMSynMf8oHzITRevK2laGh6d/Jk2rkbxc"
    "bntjOVaU07NjZ+6Zvkugg6kX7uTT9J9Kf023AgM3iRZS8xe2LYbvpbi76T6thIgehZUeeR"
    "XdAv9VGLjTrd7BWufTtC8frmfQyDu4P9m0pEi8fM7duXpuLofkAY6Ev4GbykNpUEqK5QeA"
    "tMA71Mvb6ODOFv/hTyS8O5idXnQI6MziwCwBwYwGYQjMkkH/e6BGiK80zVHp9VPFdigNMa"
    "1EaJkqBtumrdXidLVKguGTr0M+hLewK5M9dt+Qmw905J62FlobxOmykgaPeayN4iWgCA8+"
    "8RYTpkW9YQnktoIT2vkKStVEhek/yv2ifSAqM1+Rdg8Da5b2/aR4ZSIBSAAyoA/Buy2IiP"
    "byMm3ABx6XgBQZ2VjTopeE+6yoOv17yJ6O5cWSNzMVdzzp29R6ArbwjwxfsSAF+8zwWYVn"
    "1LiOmY7MY8AIcUDQS4fX5eAmHSKhdiVpc0ANmqblhpkP8zGQ6yQY6QJHdbXbOl/0mGJwju"
    "xfLwr4UD2TKSZo5u2Dq03tLH/vsAFgkKUbFFIml8SOygtIObLE3qICJ/RN1Ki/xxXSxX5J"
    "+zZoqv/+3aSg/gk44R9A1e0FnPhKn+wJK6NwjlgQ0JhCklwDfE85F8x6bmeJ+2Qkuwu+I5"
    "uW/rVh71h79eSy71AxwP+/2bTvfztYSRYVB2Vg+D/BPA+e6RHBE6JBFCSDkhBIMFn6NvId"
    "Atjy71EOm2Yq24NME4VQOx3r2+4kPmzHyPIi/YIWUDfHlxuM/ftUvgTVrlAs7q4oiv0Rxs"
    "ulf6tBUivSAd8O6UH+77fdIZoXyA3c6gMya7pkYkePxSjx3SfRfFAphufDx6ZJqyHuokfd"
    "5Rq5MnMe0NPSomBsocPUMDqRmiZX5sQSZxAzhT1VEGLo5kpLYYhSS1GIYNh4FO50Bn4V8J"
    "AakYgG3WwYYjEKcVQ7DZEFjIwRrg2qyTdPXYqo/e8hsdGojsDGE2f0X47cUq4F4FGJCPtm"
    "ze+OIIUQMV4n+k/7mlGXo1CvDuVS+i2NpOBhcvp/+G1HWey62RPLjtDT4qbgB3h+jCNL6L"
    "wK74x0Ee4KT7Sb6978u315KlrcDcMcD8Af73Xr6nReT1HPp7fD8YkJ6uJexASDpI6tMPcN"
    "S5n1AKU3UsSjG573Zl+Zb162gaAHNa+qHTY49aqDp7DumlK/dZkUaRNlipG15OC90Ac1rW"
    "G0zl8fh+xIrJLAEYOyaruetN2JPXukWevIlmf1bGvHKWb105SxlXAig3iI5O0u4gLMvzmd"
    "WFdx5JFJaPSXEYFoSIyFYbjXSSVox0nUcagzVFcZOBTpCKca73OKtWltsyX5sIKYQ+IY4R"
    "7VAIbm70MpGg8WajHqcUrLTOrHShQ91abTTMCVIxznUeZz/wSLERl1UoTrbR5lmzUa0gJs"
    "UkiKlLQMNL2ucXPHinKRsgr+w7MiUATf8rw8R8oy9zgzWTlNWFbJ7uC2s3XvPHdvvs7LJ9"
    "enZxdf7+8vL86jQI3ExXFUVw3vQ+0iDO2Fikozp9HBe6keV4eRX/gK4xA7CzgFnLoOyXnu"
    "6EwOBhJSnC5jHv3bMSFzQ7x+xcBLS9ubH5H4axQXRxoKBnyOegSpA1D+m9eKhc1Bxo6xnM"
    "o1i+T5AK+b7O8r1pqFBhP3ikzSiREDRfFzQpXpYNTK7gkjhVPUJLGhUFSrHlEDr95kLWTI"
    "vx1DO8gSkoRig2ijpvFKQrZw028pBFCMUY13mM2XJUtvCGZnYgxrzOYx45PM6X/C1NKA4u"
    "v54DLnFWP441byo4Od7ZkSFdNhdceqJxp4SLBPV44XEZkviNR/rh8xgYak5OmnRi5oagnv"
    "ThLgkfd+B2ME1oN2MHNgmmfaYa0ZfAsileGZlGgrqTokQjrBUdONbs9dSCEgbMXCO5lJK9"
    "Um3pWbUkus2A+bWkGSrZoufS7EUi+h/ARAtckla6JWH0fCJZSNJtSffbS8iPqY0lH9zHUx"
    "4gTaFIcxVCySL/YtWQZsiWyMLUgGUBS1roGJBOgGQRJIMQ2Ly8hl9ahDLIeewwgVWkUDlk"
    "ChVvEDhF0JCqgWFDTRI8uQ3525nw6zaUFdjwRfxdPvrNjb/ztjE+ZS5OJBS51xW5iLSwnR"
    "I3Cjs6MoTLKnDxyRVT3rqdSbdzKx8onXdUf06L3AntOlfoTqj0u87uF5lo7P2EUHrQvH6c"
    "rtLqvaRHHOHh5ck0VdI/B8YJsgZC/e60XQZs2ixfQGSVydxc5PUUjBBnXq4oVYX+/x/osv"
    "yBPX5fPuhqcHdnLGdmqBiRCAeIieO7CAfwb0rjGpQYkRiUnQ9KYK9XaKIJHQMeoSabWMRv"
    "JOM3ZqqtrXLC4HPBjRMJUJOg2mBtGuTbLYXeupPhR0HIACrMBjdNnAB4Rqj3hXBQUi3/uB"
    "kO+zH+cdNLHjK9v7uRyXbLmAlppLtKZBr7FVANe6VoK6Bl3LhVkM8pQbcVQz+eoIX9bKfI"
    "MJBjKzSMkW9LTRLWY1ttVFYtH2P/Qzik/wzS5sXU7163pd27uXE49tg4kdhjk3yeGcKjuf"
    "E5ttgUrdhhOXbYWKQfzz0XacLqpvW7q9NjmdkA0g/N4BWFczpCVeFs9u27RzuZhaM0f14L"
    "R6lwlApH6cEdpXxRrvSmse1CNxt5yzRf8GbkMCzKlC49siEEU0T+vIppxKHc93o8Lh2pEN"
    "e42z0SS5x3B8adCl+miP4tt/4nrKNNpuNBPdIFi59etmIo8aiD8CsxnU9Etsg4OuCiiTCb"
    "tY/gJcTZ4x3BlPYq0zH09gojZ7lKVlrB4zPjNEi5kkL/W8kYCzbpC+Ms/GVRJtZC8Vfl62"
    "HOE7QGCAJphcjslFQoRboh74u8C9ckloDMojHDGEjsALsXd+xA+jAaeYwl8NXUiRCSvmN9"
    "b08Rt7DXKwaEDjBf6GpI0cTghH3EropUnblq1j5SdW6U6EOk+Di0mlsq0F5YN/IZWXOtG8"
    "+qTk9R8TjeIiT1cLk1KpKldgetj15GSxmdeILISx7J9pX7Sg5k11VP5TmOnR3Rv02U/ieE"
    "HqdePEwrrT7Gqk8KdEd2WZcdbbnTSH2hkh1QJbN12+CKyw8IdqMsHBbc/atjLCFANr6l7l"
    "Ra1v4QRGs0lpXb4c+D/rBDLzuK3O/6AEfDyTRaGb12lNRSSnnUH/7q0TE7j0/lV8QvaazD"
    "RUb043k07JCizgNZWx3b16ZmGcGgBYctYlSNAF4cfRY678503q2UgJ3JqHfAVjNkU1ZcLJ"
    "OSEmXtN3vdk7FWDUN6BC8/PKmGA0gzzbYkdYYc282XQiWkGU218ga8Xb6VVInFMktea4Td"
    "hCiAzHL7uwwXxs6730JQpq4rDkbpNW+cPLerUNR84ZmNHo8gEBA0YjuqQg6oB5fyI2jSjC"
    "oSW5PLqyKBPEJzbozmbBlOhpG46NYCJ8tCLPhsOuQfAxMpDua6fSNK0wjuWtWBavbaygyr"
    "UONMHpCkrNB9vCYw7cu/UcF9VY8AmIqX24/n+p4UXXVxtOe1ZtMRBZb/4p5GX9mzFyuBly"
    "5Tw1mRJgUsI04mwOYBm1pN/kKQy1ifQVohk76fdqvh0buXQMQpInGKqBbspVk2x+ioL3Wb"
    "BlnzhXTEiTaSfuq2gez3EJEHWBpi3kNEk8mnz24/x4Vv2eiM+Mza4giRu+dueYgomrT8yF"
    "hW7lmXnJiu7ZBq5k0O+0yW7y3ktCkzXOG5lkzLWvncRFgyj2qLOCmwZB42NWejLZmOxXfe"
    "xW/fQAvmHm6HxPoTQYNt2wBq+MW0s1S2fHdcbgeNgL/qMB3TmRm6li1tFoxBjEoAvwHwC/"
    "IyAJPJnBWHnc9rEmSNgL4Cc5wwDQnTUC2merNMQxyBHnHrhhddsZ0aWT5FypGYN+IRy3mZ"
    "JHiupNs4iURdEdqnju2ClaFjByjm69hhE6FiV8ZMhYpdjUi2l3AKsrOQzSeDv+UDHCFpoO"
    "C7F5RNhDOksPyEb17z6kJU2u1ac4foXmDleGXy9eQoTRMCJ6pWkgkMIOvy4vxT/SGFONRf"
    "PBwbHOqv+BLLmk3+CswUNlDXPPj67QW8wgokrEDHI/c1ywoUHfU/nLXJFx0UoRChQellxB"
    "1ttWWkVe3Wyn5DraoNs6obuGXjrF6NsUqygB1gWtZ0WbP1XxbSCNvbIm6N9pIp0OzBRnwk"
    "QKczuSjYybqTiQcj2k25yL5jQWlLQ3rZqEDetNcNzSmWlfs68anJBNhR/08893U6J1kyAX"
    "YsO/Zucl+Hmc/z3Cf+GslwoESWT74LxV+qu/eifGFXBDCFxU/O5CEk7hg/uJflH5Bsi+hU"
    "4+m1mwrdS6CVk3orLC+djqvT/dz5KJNywgMIGA/wfuQ2dMzihF1+2WsJvB7gJ7nTn366lt"
    "wLI1vlps2+E3pFFnDm5MlelQmyBiTPrsCJxC6/5WB9QXtxh19SnSc8wHZynJ6l2J1HXeHE"
    "NQGce4mSeZjeSB7c9gYfCStx6R/g+H4wYCVkk4esZHLf7cryrUy4leVoGgBzQBjWh06vT4"
    "vcuyBJq8+90Yi1edRNT93htidflDEnJw1nEWvyRUaSSLyZfTNOKdLJ1zmd/EKHurXaaJgT"
    "pGKc6zzO4KtOVKIc5pyfrDxOJezX6Q0PObbpcCVeDSkaIJ1VHTEBMEYZLvp8tAMCATb/4R"
    "kMnnTkWH52Hx5FJIu2gW78PWXAmr3YwFKszEsMbvRlvmYSo2uMevJju312dtk+Pbu4On9/"
    "eXl+dRqw7XRVEf++6X2kLDw2EhlKTNS8WHKrjNGIjTINKjVR8kEaoRCu3tddvb4NeDu/ZC"
    "Ovij1JOCcjM6uEwzf0JAiXbxGqMRbI7fTd48mXDsC6tmqlHTdexUmB20YNm4iTL8fEKU8K"
    "fDLU8ajzpQmMkNTZF1MnszpdUxwIe80biO6709NSSsJpgY5wmroUA0E7Uz/IPzwQIan+9M"
    "BhDHU7OyfAcRR49zvZt/8DegFlQQ=="
)
