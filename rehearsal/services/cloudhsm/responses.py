"""CloudHSM v2's JSON wire format for the calls moto's response class lacks; what they do is the
backend's (models.py)."""

from __future__ import annotations

import json


def create_hsm(self) -> str:
    hsm = self.cloudhsmv2_backend.create_hsm(self._get_param("ClusterId"), self._get_param("AvailabilityZone"),
                                             self._get_param("IpAddress"))
    return json.dumps({"Hsm": hsm})


def delete_hsm(self) -> str:
    hsm_id = self.cloudhsmv2_backend.delete_hsm(self._get_param("ClusterId"), self._get_param("HsmId"),
                                                self._get_param("EniId"), self._get_param("EniIp"))
    return json.dumps({"HsmId": hsm_id})


def initialize_cluster(self) -> str:
    result = self.cloudhsmv2_backend.initialize_cluster(self._get_param("ClusterId"), self._get_param("SignedCert"),
                                                        self._get_param("TrustAnchor"))
    return json.dumps(result)
