// sgmat_template.wgsl: matmul_sgmat.wgsl's subgroup-matrix loads and stores in the syntax whose
// layout is a template argument (row_major / col_major), as later Dawn takes
// chromium_experimental_subgroup_matrix; sgmat_args.wgsl is the earlier syntax. device.ts probes
// which one this compiler takes. Uses matmul_sgmat.wgsl's a_tile, b_tile, c_stage.
enable chromium_experimental_subgroup_matrix;

fn sm_left(offset: u32) -> subgroup_matrix_left<f16, 16, 16> {
  return subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&a_tile, offset, 32u);
}

fn sm_right(offset: u32) -> subgroup_matrix_right<f16, 16, 16> {
  return subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&b_tile, offset, 32u);
}

fn sm_store(offset: u32, m: subgroup_matrix_result<f32, 16, 16>) {
  subgroupMatrixStore<row_major>(&c_stage, offset, m, 16u);
}
