"""Valid objects of the common built-in kinds, as clients send them and the API returns
them (status, managedFields and all). Tests deep-copy them before mutating."""

from __future__ import annotations

from typing import Any

META = {
    "name": "web",
    "namespace": "default",
    "uid": "3f1c2a4e-1111-2222-3333-444455556666",
    "resourceVersion": "12345",
    "generation": 2,
    "creationTimestamp": "2024-05-01T10:00:00Z",
    "labels": {"app": "web", "tier": "frontend"},
    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    "finalizers": ["example.com/cleanup"],
    "ownerReferences": [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-5d",
            "uid": "3f1c2a4e-1111-2222-3333-444455556667",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ],
    "managedFields": [
        {
            "manager": "kubectl-client-side-apply",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2024-05-01T10:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
        }
    ],
}

POD_SPEC: dict[str, Any] = {
    "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
    "containers": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "imagePullPolicy": "IfNotPresent",
            "args": ["--port", "8080"],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [
                {"name": "MODE", "value": "prod"},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {
                    "name": "KEY",
                    "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k", "optional": True}},
                },
            ],
            "envFrom": [{"configMapRef": {"name": "settings"}}],
            "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi"},
                "requests": {"cpu": 0.25, "memory": 67108864},
            },
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                "periodSeconds": 10,
            },
            "livenessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5},
            "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            "securityContext": {
                "runAsUser": 1000,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
            },
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": False}],
        }
    ],
    "volumes": [
        {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 420}},
        {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
    ],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "activeDeadlineSeconds": 3600,
    "dnsPolicy": "ClusterFirst",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "serviceAccountName": "default",
    "affinity": {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["web"]}
                            ]
                        },
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    },
    "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ],
    "securityContext": {"fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
    "priorityClassName": "high",
    "overhead": {"cpu": "10m"},
}

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": POD_SPEC}
CONDITION = {
    "type": "Ready",
    "status": "True",
    "lastTransitionTime": "2024-05-01T10:00:05Z",
    "reason": "Ok",
    "message": "fine",
}

EXAMPLES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("", "v1", "Pod"): {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": META,
        "spec": {**POD_SPEC, "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5",
            "podIPs": [{"ip": "10.0.0.5"}],
            "startTime": "2024-05-01T10:00:02Z",
            "qosClass": "Burstable",
            "conditions": [{**CONDITION, "lastProbeTime": None}],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "imageID": "sha256:abc",
                    "state": {"running": {"startedAt": "2024-05-01T10:00:03Z"}},
                    "lastState": {},
                }
            ],
        },
    },
    ("apps", "v1", "Deployment"): {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": META,
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
            },
            "template": TEMPLATE,
            "revisionHistoryLimit": 10,
        },
        "status": {
            "replicas": 3,
            "readyReplicas": 3,
            "conditions": [{**CONDITION, "lastUpdateTime": "2024-05-01T10:00:05Z"}],
        },
    },
    ("apps", "v1", "StatefulSet"): {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": META,
        "spec": {
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": TEMPLATE,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        },
    },
    ("apps", "v1", "DaemonSet"): {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": META,
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": TEMPLATE,
            "updateStrategy": {"rollingUpdate": {"maxUnavailable": "10%"}},
        },
    },
    ("apps", "v1", "ReplicaSet"): {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": META,
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
    },
    ("apps", "v1", "ControllerRevision"): {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": META,
        "data": {"spec": {"template": {"anything": ["goes", 1, None]}}},
        "revision": 3,
    },
    ("batch", "v1", "Job"): {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": META,
        "spec": {
            "backoffLimit": 4,
            "completions": 1,
            "ttlSecondsAfterFinished": 100,
            "template": {**TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "Never"}},
        },
        "status": {"succeeded": 1, "completionTime": "2024-05-01T10:01:00Z"},
    },
    ("batch", "v1", "CronJob"): {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": META,
        "spec": {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"lastScheduleTime": "2024-05-01T10:00:00Z"},
    },
    ("", "v1", "Service"): {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": META,
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
            ],
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ipFamilies": ["IPv4"],
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    },
    ("", "v1", "ConfigMap"): {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": META,
        "data": {"a.conf": "x=1"},
        "binaryData": {"blob": "AAEC"},
        "immutable": False,
    },
    ("", "v1", "Secret"): {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": META,
        "type": "Opaque",
        "data": {"password": "cGFzc3dvcmQ=", "wrapped": "cGFz\nc3dvcmQ="},
        "stringData": {"user": "admin"},
    },
    ("", "v1", "Namespace"): {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    },
    ("", "v1", "Node"): {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {"podCIDR": "10.244.0.0/24", "taints": [{"key": "k", "effect": "NoSchedule"}]},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": 110},
            "conditions": [{**CONDITION, "lastHeartbeatTime": "2024-05-01T10:00:05Z"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
                "kernelVersion": "6.1",
                "osImage": "Debian",
                "containerRuntimeVersion": "kybernetes://1",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    },
    ("", "v1", "ServiceAccount"): {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": META,
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "registry"}],
    },
    ("", "v1", "Endpoints"): {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": META,
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.5", "targetRef": {"kind": "Pod", "name": "web"}}],
                "ports": [{"name": "http", "port": 8080}],
            }
        ],
    },
    ("discovery.k8s.io", "v1", "EndpointSlice"): {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": META,
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    },
    ("", "v1", "Event"): {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": META,
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Scheduled",
        "message": "assigned",
        "type": "Normal",
        "count": 1,
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "source": {"component": "scheduler"},
    },
    ("events.k8s.io", "v1", "Event"): {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": META,
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "reportingController": "kyb/scheduler",
        "reportingInstance": "scheduler-1",
        "action": "Binding",
        "reason": "Scheduled",
        "regarding": {"kind": "Pod", "name": "web"},
        "type": "Normal",
    },
    ("coordination.k8s.io", "v1", "Lease"): {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": META,
        "spec": {
            "holderIdentity": "node-1",
            "leaseDurationSeconds": 40,
            "renewTime": "2024-05-01T10:00:00.000000Z",
        },
    },
    ("policy", "v1", "PodDisruptionBudget"): {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": META,
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}},
    },
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]},
    },
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": META,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    },
    ("scheduling.k8s.io", "v1", "PriorityClass"): {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "high"},
        "value": 1000000,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
    },
    ("", "v1", "PersistentVolumeClaim"): {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": META,
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "5Gi"}},
            "storageClassName": "local",
        },
        "status": {"phase": "Bound", "capacity": {"storage": "5Gi"}},
    },
    ("", "v1", "PersistentVolume"): {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/srv/pv-1"},
            "claimRef": {"namespace": "default", "name": "data"},
        },
    },
    ("", "v1", "LimitRange"): {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": META,
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]},
    },
    ("", "v1", "ResourceQuota"): {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": META,
        "spec": {"hard": {"pods": "10", "requests.cpu": "4"}},
        "status": {"hard": {"pods": "10"}, "used": {"pods": "1"}},
    },
    ("", "v1", "ReplicationController"): {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": META,
        "spec": {"replicas": 1, "selector": {"app": "web"}, "template": TEMPLATE},
    },
    ("", "v1", "PodTemplate"): {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": META,
        "template": TEMPLATE,
    },
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "cronSpec": {"type": "string", "pattern": "^\\S+$"},
                                        "replicas": {"type": "integer", "minimum": 1},
                                    },
                                    "required": ["cronSpec"],
                                },
                                "status": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                },
                            },
                        }
                    },
                    "additionalPrinterColumns": [
                        {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}
                    ],
                }
            ],
        },
    },
}
